/* IBM VGA: the register file of the PC's display adapter and its 80x25
 * colour text mode.
 *
 * The text buffer is plain guest RAM (0xB8000 in the colour memory map):
 * guests write it at full speed and the chip reads it with phys_copy_out
 * when the screen is dumped or rendered. Registers: Misc Output, Input
 * Status 0/1, Feature Control, the Sequencer, CRTC, Graphics Controller,
 * Attribute Controller and DAC, at their standard ports (CRTC and Input
 * Status 1 at 0x3Dx or 0x3Bx as Misc Output bit 0 selects). Every register
 * is stored and reads back; only alphanumeric (text) mode is interpreted
 * (the dump, the renderer's view). Graphics modes' registers are stored
 * and nothing draws them.
 *
 * Reset state is BIOS mode 3 (80x25, 16 colours, 9x16 cells, 70 Hz), so a
 * multiboot guest that never touches the registers sees a working screen
 * at 0xB8000, as under QEMU's SeaBIOS.
 */
#ifndef DEVICES_VGA_H
#define DEVICES_VGA_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "devices/device.h"

#define VGA_COLS 80
#define VGA_ROWS 25
#define VGA_DAC_ENTRIES 256

/* Ports (FreeVGA / IBM VGA Technical Reference register summary). */
#define VGA_CRTC_INDEX_MONO 0x3b4
#define VGA_CRTC_DATA_MONO 0x3b5
#define VGA_ISR1_MONO 0x3ba     /* read: Input Status 1; write: Feature Control */
#define VGA_AC_INDEX 0x3c0      /* write: index / data (flip-flop); read: index */
#define VGA_AC_READ 0x3c1
#define VGA_MISC_WRITE 0x3c2    /* read: Input Status 0 */
#define VGA_SEQ_INDEX 0x3c4
#define VGA_SEQ_DATA 0x3c5
#define VGA_DAC_MASK 0x3c6
#define VGA_DAC_READ_INDEX 0x3c7 /* read: DAC state */
#define VGA_DAC_WRITE_INDEX 0x3c8
#define VGA_DAC_DATA 0x3c9
#define VGA_FEATURE_READ 0x3ca
#define VGA_MISC_READ 0x3cc
#define VGA_GC_INDEX 0x3ce
#define VGA_GC_DATA 0x3cf
#define VGA_CRTC_INDEX 0x3d4
#define VGA_CRTC_DATA 0x3d5
#define VGA_ISR1 0x3da

/* Misc Output bits. */
#define VGA_MISC_IOAS 0x01      /* 1: CRTC at 0x3Dx (colour), 0: 0x3Bx (mono) */
#define VGA_MISC_CLOCK_MASK 0x0c

/* Input Status 1 bits. */
#define VGA_ISR1_DD 0x01        /* display disabled: horizontal or vertical blanking */
#define VGA_ISR1_VRETRACE 0x08

/* CRTC registers used here. */
#define VGA_CRTC_HTOTAL 0x00
#define VGA_CRTC_HDISP_END 0x01
#define VGA_CRTC_VTOTAL 0x06
#define VGA_CRTC_OVERFLOW 0x07
#define VGA_CRTC_MAX_SCAN 0x09
#define VGA_CRTC_CURSOR_START 0x0a
#define VGA_CRTC_CURSOR_END 0x0b
#define VGA_CRTC_START_HI 0x0c
#define VGA_CRTC_START_LO 0x0d
#define VGA_CRTC_CURSOR_HI 0x0e
#define VGA_CRTC_CURSOR_LO 0x0f
#define VGA_CRTC_VRETRACE_START 0x10
#define VGA_CRTC_VRETRACE_END 0x11
#define VGA_CRTC_VDISP_END 0x12
#define VGA_CURSOR_DISABLE 0x20 /* cursor start register bit 5 */
#define VGA_CRTC_PROTECT 0x80   /* vertical retrace end bit 7: CR00-CR07 read-only */

/* Attribute controller. */
#define VGA_AC_PAS 0x20         /* index bit 5: palette address source (video on) */
#define VGA_AC_MODE 0x10
#define VGA_AC_COLOR_SELECT 0x14
#define VGA_AC_MODE_GRAPHICS 0x01
#define VGA_AC_MODE_LGE 0x04    /* line graphics: 9th column of 0xC0-0xDF */
#define VGA_AC_MODE_BLINK 0x08
#define VGA_AC_MODE_P54S 0x80

#define VGA_GC_MISC 0x06
#define VGA_SEQ_CLOCKING 0x01

struct vga;

/* Registers the VGA ports on pio and resets to mode 3. pm is where the text
 * buffer lives; ck gives the simulated time for Input Status 1. NULL on
 * allocation failure or when a port is taken. */
struct vga *vga_create(struct pio_bus *pio, struct phys_map *pm, struct clock *ck);
/* Frees the chip; the bus must not be used afterwards. */
void vga_destroy(struct vga *v);
/* Power-on state: mode 3 registers, EGA colours in the DAC. The text buffer
 * is guest RAM and is not touched. */
void vga_reset(struct vga *v);
/* Register state for the debugger. */
void vga_dump(void *opaque, FILE *out);

/* The 25 visible rows from the CRTC start address, one line each, as UTF-8
 * (CP437; NUL shows as a space), trailing spaces trimmed. 0, or -1 when
 * writing failed. */
int vga_dump_text(const struct vga *v, FILE *out);
/* Where the cursor is on the visible screen. visible is false when the
 * cursor is disabled (cursor start bit 5, or start > end), off the visible
 * screen, or not in text mode; row and col are -1 when it is off screen. */
void vga_cursor(const struct vga *v, int *row, int *col, bool *visible);

/* ---- read-only view for a renderer ---- */

/* Alphanumeric mode: Attribute Mode Control bit 0 and GC Misc bit 0 clear. */
bool vga_text_mode(const struct vga *v);
/* Character and attribute of a visible cell (row < VGA_ROWS, col < VGA_COLS);
 * 0/0 where the buffer is outside guest RAM. */
void vga_text_cell(const struct vga *v, int row, int col, uint8_t *ch, uint8_t *attr);
/* The whole visible screen at once: cells[row * VGA_COLS + col] = attr << 8 | ch. */
void vga_text_screen(const struct vga *v, uint16_t cells[VGA_ROWS * VGA_COLS]);
/* 0xRRGGBB of a 4-bit text colour through the attribute palette, Colour
 * Select, PEL mask and DAC (6-bit DAC values scaled to 8 bits). */
uint32_t vga_color_rgb(const struct vga *v, unsigned color);
/* A DAC entry as the guest programmed it: three 6-bit values. */
void vga_dac_entry(const struct vga *v, unsigned index, uint8_t rgb[3]);
/* Attribute bit 7 blinks the character (true) or selects bright background. */
bool vga_blink_enabled(const struct vga *v);
/* Screen output on: the attribute index register's PAS bit is set. */
bool vga_video_enabled(const struct vga *v);
/* Character cell height in scan lines (CRTC Maximum Scan Line + 1) and the
 * cursor's first and last scan lines (CRTC 0x0A/0x0B bits 4-0). */
int vga_char_height(const struct vga *v);
void vga_cursor_shape(const struct vga *v, int *start, int *end);
/* 9-dot cells (Sequencer Clocking Mode bit 0 clear) and line graphics. */
bool vga_nine_dot(const struct vga *v);
bool vga_line_graphics(const struct vga *v);

/* ---- code page 437 ---- */

/* The Unicode code point the IBM PC's character ROM shows for c (0 for 0). */
uint32_t vga_cp437_unicode(uint8_t c);
/* UTF-8 of vga_cp437_unicode(c), NUL as a space; returns its length (1..3). */
int vga_cp437_utf8(uint8_t c, char out[4]);

#endif
