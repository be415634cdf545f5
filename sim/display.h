/* The host side of the VGA: an SDL2 window showing the text screen, and the
 * host keyboard turned into PS/2 scan-code set 2 bytes.
 *
 * Only -display sdl opens a window; nothing else here touches SDL, so tests
 * and headless runs need no display. Rendering only reads guest state
 * (registers and the text buffer), so showing the screen never changes what
 * the guest sees. Key bytes go to a callback; the machine decides at which
 * simulated cycle they reach the keyboard controller.
 *
 * Glyphs come from PC console fonts (PSF 1 or 2, gzip or plain) of the
 * Debian package console-setup-linux, looked up through their Unicode
 * tables so each CP437 code gets the glyph of its Unicode character.
 */
#ifndef SIM_DISPLAY_H
#define SIM_DISPLAY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "devices/vga.h"

/* The console fonts, first match wins: Uni2-VGA16 has the VGA ROM's shapes
 * for most of CP437; FullGreek-VGA16 has the block elements and symbols it
 * lacks. */
#define DISPLAY_FONT_DIR "/usr/share/consolefonts/"
#define DISPLAY_FONT_PRIMARY DISPLAY_FONT_DIR "Uni2-VGA16.psf.gz"
#define DISPLAY_FONT_FALLBACK DISPLAY_FONT_DIR "FullGreek-VGA16.psf.gz"
#define DISPLAY_FONT_PACKAGE "console-setup-linux"

#define DISPLAY_GLYPH_MAX_H 32

/* 256 glyphs in CP437 order, 8 dots wide (bit 7 = leftmost dot). */
struct display_font {
	int height;
	uint8_t glyph[256][DISPLAY_GLYPH_MAX_H];
	int missing;            /* CP437 codes no font had (drawn as '?') */
};

/* Build the CP437 font from PSF files (first file that has a character
 * wins). 0, or -1 with a one-line message naming the file and the fix. */
int display_font_load(struct display_font *f, const char *const paths[], int npaths, char *err,
		      size_t errlen);

/* Render the text screen into pixels (0x00RRGGBB, pitch in pixels), one
 * cell = (vga_nine_dot ? 9 : 8) x font height dots; *w, *h get the image
 * size. frame counts vertical frames of the blink clock: the cursor shows
 * while bit 4 is clear and blinking text while bit 5 is clear (it blinks
 * every 16 and 32 frames). Black when the screen is off (attribute PAS
 * clear) or not in text mode. */
#define DISPLAY_MAX_W (VGA_COLS * 9)
#define DISPLAY_MAX_H (VGA_ROWS * DISPLAY_GLYPH_MAX_H)
void display_render_text(const struct vga *v, const struct display_font *f, unsigned frame,
			 uint32_t *pixels, int pitch, int *w, int *h);

/* Scan-code set 2 bytes for a key event, SDL scancodes being USB HID
 * keyboard usages: make code on press (and on auto-repeat, as a PS/2
 * keyboard's typematic repeat), F0-prefixed break on release, E0 for the
 * extended keys; Pause sends its 8-byte make and no break. Returns the
 * number of bytes (0 for a key with no set 2 code). */
#define DISPLAY_SET2_MAX 8
int display_set2_bytes(int sdl_scancode, bool pressed, uint8_t out[DISPLAY_SET2_MAX]);

typedef void (*display_key_fn)(void *ctx, uint8_t set2_byte);

struct display;

/* Open the window for v (one per process: SDL's video subsystem is
 * process-wide). key gets every scan-code byte. NULL with a one-line
 * message (SDL failure, missing fonts). */
struct display *display_open(struct vga *v, display_key_fn key, void *ctx, char *err, size_t errlen);
/* Draw the screen and handle pending window events. Call at most every
 * ~16 ms of host time. */
void display_refresh(struct display *d);
/* The user closed the window. */
bool display_quit_requested(const struct display *d);
void display_close(struct display *d);

#endif
