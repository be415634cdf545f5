/* IBM VGA register file and text mode. References: IBM "VGA Technical
 * Reference" register descriptions as collected in FreeVGA (J. Neal,
 * "FreeVGA Project": CRTC, Sequencer, Graphics, Attribute, DAC and External
 * registers) and Finn Thoegersen's vgadoc "VGA.TXT"; mode 3 register values
 * from the IBM BIOS parameter table (OSDev wiki "VGA Hardware", mode 03h).
 *
 * Modelling choices:
 * - The text buffer is guest RAM; the chip only reads it (phys_copy_out).
 *   CPU writes are not routed through the planes, the Map Mask, the write
 *   modes or the latches: those registers are stored, not applied.
 * - The visible text screen is 80x25 cells at 2 bytes per cell whatever the
 *   CRTC geometry registers say (they are stored and read back; only the
 *   timing of Input Status 1 derives from them).
 * - Input Status 1 derives display-enable and vertical retrace from
 *   simulated time and the programmed CRTC timing: the dot clock from Misc
 *   Output bits 3-2, character width from Sequencer Clocking Mode.
 * - Undefined register indexes: the sequencer index is 3 bits and the
 *   graphics index 4 bits (FreeVGA); registers that do not exist read 0,
 *   as in QEMU. CRTC indexes 0x19-0xFF are kept as scratch bytes and read
 *   back, as QEMU does.
 */
#include "devices/vga.h"

#include <stdlib.h>
#include <string.h>

#define VGA_NCRTC 256
#define VGA_NSEQ 8
#define VGA_NGC 16
#define VGA_NAC 0x15            /* attribute registers 0x00-0x14 */

struct vga;

/* One per registered port range: which chip, and the range's first port. */
struct vga_port_range {
	struct vga *v;
	uint16_t base;
};

#define VGA_NRANGES 5

struct vga {
	struct vga_port_range ranges[VGA_NRANGES];
	struct phys_map *pm;
	struct clock *ck;
	uint8_t misc, feature;
	uint8_t seq_index, seq[VGA_NSEQ];
	uint8_t gc_index, gc[VGA_NGC];
	uint8_t crtc_index, crtc[VGA_NCRTC];
	uint8_t ac_index;               /* bits 0-4 index, bit 5 PAS */
	bool ac_data_next;              /* flip-flop: the next 0x3C0 write is data */
	uint8_t ac[VGA_NAC];
	uint8_t dac[VGA_DAC_ENTRIES][3];
	uint8_t dac_mask;
	uint8_t dac_read_index, dac_write_index, dac_step;
	bool dac_reading;               /* last index write was 0x3C7 */
	uint8_t dac_latch[3];
};

/* ---- reset values: BIOS mode 03h ---- */

static const uint8_t mode3_seq[5] = { 0x03, 0x00, 0x03, 0x00, 0x02 };
static const uint8_t mode3_gc[9] = { 0x00, 0x00, 0x00, 0x00, 0x00, 0x10, 0x0e, 0x00, 0xff };
static const uint8_t mode3_crtc[25] = {
	0x5f, 0x4f, 0x50, 0x82, 0x55, 0x81, 0xbf, 0x1f, 0x00, 0x4f, 0x0d, 0x0e, 0x00, 0x00, 0x00, 0x00,
	0x9c, 0x8e, 0x8f, 0x28, 0x1f, 0x96, 0xb9, 0xa3, 0xff,
};
static const uint8_t mode3_ac[VGA_NAC] = {
	0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x14, 0x07, 0x38, 0x39, 0x3a, 0x3b, 0x3c, 0x3d, 0x3e, 0x3f,
	0x0c, 0x00, 0x0f, 0x08, 0x00,
};
#define MODE3_MISC 0x67

/* Writable bits (FreeVGA register layouts; reserved bits read 0). */
static const uint8_t seq_mask[VGA_NSEQ] = { 0x03, 0x3d, 0x0f, 0x3f, 0x0e };
static const uint8_t gc_mask[VGA_NGC] = { 0x0f, 0x0f, 0x0f, 0x1f, 0x03, 0x7b, 0x0f, 0x0f, 0xff };
static const uint8_t ac_mask[VGA_NAC] = {
	0x3f, 0x3f, 0x3f, 0x3f, 0x3f, 0x3f, 0x3f, 0x3f, 0x3f, 0x3f, 0x3f, 0x3f, 0x3f, 0x3f, 0x3f, 0x3f,
	0xef, 0xff, 0x3f, 0x0f, 0x0f,
};
#define MISC_MASK 0xef

/* The 64 EGA colours the BIOS loads into DAC entries 0-63 for mode 3: index
 * bits 2-0 are primary red/green/blue (2/3 intensity), bits 5-3 secondary
 * (1/3) (vgadoc, Attribute Palette registers: EGA bit meanings). */
static void dac_load_ega(struct vga *v)
{
	memset(v->dac, 0, sizeof(v->dac));
	for (unsigned i = 0; i < 64; i++) {
		static const unsigned shift[3] = { 2, 1, 0 };   /* r, g, b primary bits */
		for (int c = 0; c < 3; c++) {
			unsigned hi = (i >> shift[c]) & 1, lo = (i >> (shift[c] + 3)) & 1;
			v->dac[i][c] = (uint8_t)(hi * 0x2a + lo * 0x15);
		}
	}
}

void vga_reset(struct vga *v)
{
	v->misc = MODE3_MISC;
	v->feature = 0;
	v->seq_index = v->gc_index = v->crtc_index = 0;
	memset(v->seq, 0, sizeof(v->seq));
	memcpy(v->seq, mode3_seq, sizeof(mode3_seq));
	memset(v->gc, 0, sizeof(v->gc));
	memcpy(v->gc, mode3_gc, sizeof(mode3_gc));
	memset(v->crtc, 0, sizeof(v->crtc));
	memcpy(v->crtc, mode3_crtc, sizeof(mode3_crtc));
	memcpy(v->ac, mode3_ac, sizeof(mode3_ac));
	v->ac_index = VGA_AC_PAS;
	v->ac_data_next = false;
	dac_load_ega(v);
	v->dac_mask = 0xff;
	v->dac_read_index = v->dac_write_index = v->dac_step = 0;
	v->dac_reading = false;
}

/* ---- Input Status 1 timing ---- */

/* Misc Output bits 3-2: 0 = 25.175 MHz, 1 = 28.322 MHz; 2 and 3 select
 * an external clock on a real board and run at 25.175 MHz here. */
static uint64_t dot_clock_hz(const struct vga *v)
{
	uint64_t hz = ((v->misc & VGA_MISC_CLOCK_MASK) >> 2) == 1 ? 28322000 : 25175000;
	return (v->seq[VGA_SEQ_CLOCKING] & 0x08) ? hz / 2 : hz;   /* SR01 bit 3: dot clock / 2 */
}

/* 10-bit vertical values: low 8 bits in their register, bits 8 and 9 in
 * the Overflow register (CR07) at the given bit positions (FreeVGA). */
static unsigned crtc_vert(const struct vga *v, unsigned reg, unsigned bit8, unsigned bit9)
{
	uint8_t ov = v->crtc[VGA_CRTC_OVERFLOW];
	return v->crtc[reg] | ((ov >> bit8) & 1u) << 8 | ((ov >> bit9) & 1u) << 9;
}

struct vga_timing {
	unsigned char_w, htotal, hdisp;         /* dots per character, characters */
	unsigned vtotal, vdisp, vrs, vr_lines;  /* scan lines */
};

/* Horizontal Total is characters - 5, Horizontal Display End characters
 * - 1, Vertical Total lines - 2, Vertical Display End lines - 1; vertical
 * retrace starts at line VRS and ends when the line counter's low 4 bits
 * equal Vertical Retrace End bits 3-0 (FreeVGA CRTC registers). */
static struct vga_timing vga_timing(const struct vga *v)
{
	struct vga_timing t;
	t.char_w = (v->seq[VGA_SEQ_CLOCKING] & 0x01) ? 8 : 9;
	t.htotal = v->crtc[VGA_CRTC_HTOTAL] + 5u;
	t.hdisp = v->crtc[VGA_CRTC_HDISP_END] + 1u;
	t.vtotal = crtc_vert(v, VGA_CRTC_VTOTAL, 0, 5) + 2;
	t.vdisp = crtc_vert(v, VGA_CRTC_VDISP_END, 1, 6) + 1;
	t.vrs = crtc_vert(v, VGA_CRTC_VRETRACE_START, 2, 7);
	unsigned end = v->crtc[VGA_CRTC_VRETRACE_END] & 0x0f;
	t.vr_lines = (end - t.vrs) & 0x0f;
	if (t.vr_lines == 0)
		t.vr_lines = 16;
	return t;
}

/* Input Status 1 (FreeVGA "Input Status #1 Register"): bit 0 is set while
 * the beam is outside the active display (horizontal or vertical
 * blanking), bit 3 during vertical retrace. The beam position is the dot
 * count since time 0 modulo the frame: exact integer arithmetic, no drift. */
static uint8_t read_isr1(struct vga *v)
{
	struct vga_timing t = vga_timing(v);
	uint64_t line_dots = (uint64_t)t.htotal * t.char_w;
	uint64_t frame_dots = line_dots * t.vtotal;
	unsigned __int128 dots = (unsigned __int128)clock_now(v->ck) * dot_clock_hz(v) / clock_hz(v->ck);
	uint64_t pos = (uint64_t)(dots % frame_dots);
	uint64_t line = pos / line_dots, dot = pos % line_dots;
	uint8_t val = 0;
	if (line >= t.vdisp || dot >= (uint64_t)t.hdisp * t.char_w)
		val |= VGA_ISR1_DD;
	if (line >= t.vrs && line < (uint64_t)t.vrs + t.vr_lines)
		val |= VGA_ISR1_VRETRACE;
	v->ac_data_next = false;        /* reading Input Status 1 resets the flip-flop */
	return val;
}

/* ---- attribute controller ---- */

/* 0x3C0 writes alternate between the index and the data register (FreeVGA
 * "Attribute Address/Data Register"). The palette registers 0-0xF cannot
 * be written while PAS is set (vgadoc 3C0h bit 5). */
static void write_ac(struct vga *v, uint8_t val)
{
	if (!v->ac_data_next) {
		v->ac_index = val & 0x3f;
		v->ac_data_next = true;
		return;
	}
	v->ac_data_next = false;
	unsigned i = v->ac_index & 0x1f;
	if (i >= VGA_NAC || (i < 0x10 && (v->ac_index & VGA_AC_PAS)))
		return;
	v->ac[i] = val & ac_mask[i];
}

static uint8_t read_ac_data(const struct vga *v)
{
	unsigned i = v->ac_index & 0x1f;
	return i < VGA_NAC ? v->ac[i] : 0;
}

/* ---- DAC ---- */

/* A colour is three 6-bit writes to 0x3C9; the third stores the entry and
 * advances the write index (FreeVGA "DAC Data Register"). */
static void write_dac_data(struct vga *v, uint8_t val)
{
	v->dac_latch[v->dac_step++] = val & 0x3f;
	if (v->dac_step < 3)
		return;
	memcpy(v->dac[v->dac_write_index], v->dac_latch, 3);
	v->dac_write_index++;
	v->dac_step = 0;
}

static uint8_t read_dac_data(struct vga *v)
{
	uint8_t val = v->dac[v->dac_read_index][v->dac_step++];
	if (v->dac_step == 3) {
		v->dac_read_index++;
		v->dac_step = 0;
	}
	return val;
}

/* ---- port dispatch ---- */

static bool crtc_decoded(const struct vga *v, uint16_t port)
{
	bool colour = v->misc & VGA_MISC_IOAS;
	return (port & 0xfff0) == (colour ? 0x3d0 : 0x3b0);
}

/* CR11 bit 7 makes CR00-CR07 read-only, except the line compare bit 8 in
 * CR07 bit 4 (FreeVGA "Vertical Retrace End Register", Protect bit). */
static void write_crtc(struct vga *v, uint8_t val)
{
	uint8_t i = v->crtc_index;
	if (i <= VGA_CRTC_OVERFLOW && (v->crtc[VGA_CRTC_VRETRACE_END] & VGA_CRTC_PROTECT)) {
		if (i == VGA_CRTC_OVERFLOW)
			v->crtc[i] = (uint8_t)((v->crtc[i] & ~0x10) | (val & 0x10));
		return;
	}
	v->crtc[i] = val;
}

/* Ports of the other I/O address range (mono vs colour) are not decoded:
 * reads float to 0xFF, writes go nowhere. */
static uint8_t vga_in(struct vga *v, uint16_t port)
{
	switch (port) {
	case VGA_CRTC_INDEX: case VGA_CRTC_INDEX_MONO:
		return crtc_decoded(v, port) ? v->crtc_index : 0xff;
	case VGA_CRTC_DATA: case VGA_CRTC_DATA_MONO:
		return crtc_decoded(v, port) ? v->crtc[v->crtc_index] : 0xff;
	case VGA_ISR1: case VGA_ISR1_MONO:
		return crtc_decoded(v, port) ? read_isr1(v) : 0xff;
	case VGA_AC_INDEX: return v->ac_index;
	case VGA_AC_READ: return read_ac_data(v);
	case VGA_MISC_WRITE: return 0x00;       /* Input Status 0: no CRT interrupt, switch sense 0 */
	case VGA_SEQ_INDEX: return v->seq_index;
	case VGA_SEQ_DATA: return v->seq[v->seq_index];
	case VGA_DAC_MASK: return v->dac_mask;
	case VGA_DAC_READ_INDEX: return v->dac_reading ? 0x03 : 0x00;   /* DAC State */
	case VGA_DAC_WRITE_INDEX: return v->dac_write_index;
	case VGA_DAC_DATA: return read_dac_data(v);
	case VGA_FEATURE_READ: return v->feature;
	case VGA_MISC_READ: return v->misc;
	case VGA_GC_INDEX: return v->gc_index;
	case VGA_GC_DATA: return v->gc[v->gc_index];
	}
	return 0xff;
}

static void vga_out(struct vga *v, uint16_t port, uint8_t val)
{
	switch (port) {
	case VGA_CRTC_INDEX: case VGA_CRTC_INDEX_MONO:
		if (crtc_decoded(v, port))
			v->crtc_index = val;
		break;
	case VGA_CRTC_DATA: case VGA_CRTC_DATA_MONO:
		if (crtc_decoded(v, port))
			write_crtc(v, val);
		break;
	case VGA_ISR1: case VGA_ISR1_MONO:
		if (crtc_decoded(v, port))
			v->feature = val & 0x03;        /* Feature Control: FC1-FC0 */
		break;
	case VGA_AC_INDEX: write_ac(v, val); break;
	case VGA_MISC_WRITE: v->misc = val & MISC_MASK; break;
	case VGA_SEQ_INDEX: v->seq_index = val & (VGA_NSEQ - 1); break;
	case VGA_SEQ_DATA: v->seq[v->seq_index] = val & seq_mask[v->seq_index]; break;
	case VGA_DAC_MASK: v->dac_mask = val; break;
	case VGA_DAC_READ_INDEX:
		v->dac_read_index = val;
		v->dac_step = 0;
		v->dac_reading = true;
		break;
	case VGA_DAC_WRITE_INDEX:
		v->dac_write_index = val;
		v->dac_step = 0;
		v->dac_reading = false;
		break;
	case VGA_DAC_DATA: write_dac_data(v, val); break;
	case VGA_GC_INDEX: v->gc_index = val & (VGA_NGC - 1); break;
	case VGA_GC_DATA: v->gc[v->gc_index] = val & gc_mask[v->gc_index]; break;
	default: break;                         /* 0x3C1 is read-only, 0x3CA/0x3CC too */
	}
}

/* Byte-wide registers: a word access (outw 0x3D4, index | data << 8) is two
 * byte accesses to consecutive ports, lowest first. */
static uint64_t vga_io_read(void *opaque, uint64_t offset, unsigned size)
{
	const struct vga_port_range *r = opaque;
	uint64_t val = 0;
	for (unsigned i = 0; i < size; i++)
		val |= (uint64_t)vga_in(r->v, (uint16_t)(r->base + offset + i)) << (8 * i);
	return val;
}

static void vga_io_write(void *opaque, uint64_t offset, uint64_t value, unsigned size)
{
	const struct vga_port_range *r = opaque;
	for (unsigned i = 0; i < size; i++)
		vga_out(r->v, (uint16_t)(r->base + offset + i), (uint8_t)(value >> (8 * i)));
}

static const struct io_ops vga_ops = { .read = vga_io_read, .write = vga_io_write };

static const struct { uint16_t base, len; } vga_port_ranges[VGA_NRANGES] = {
	{ 0x3b4, 2 }, { 0x3ba, 1 }, { 0x3c0, 16 }, { 0x3d4, 2 }, { 0x3da, 1 },
};

struct vga *vga_create(struct pio_bus *pio, struct phys_map *pm, struct clock *ck)
{
	struct vga *v = calloc(1, sizeof(*v));
	if (!v)
		return NULL;
	v->pm = pm;
	v->ck = ck;
	vga_reset(v);
	for (int i = 0; i < VGA_NRANGES; i++) {
		v->ranges[i] = (struct vga_port_range){ v, vga_port_ranges[i].base };
		if (pio_register(pio, vga_port_ranges[i].base, vga_port_ranges[i].len, &vga_ops,
				 &v->ranges[i], "vga") != 0) {
			free(v);
			return NULL;
		}
	}
	return v;
}

void vga_destroy(struct vga *v)
{
	free(v);
}

/* ---- text mode view ---- */

bool vga_text_mode(const struct vga *v)
{
	return !(v->ac[VGA_AC_MODE] & VGA_AC_MODE_GRAPHICS) && !(v->gc[VGA_GC_MISC] & 0x01);
}

/* GC Misc bits 3-2 select where the CPU sees video memory (FreeVGA
 * "Miscellaneous Graphics Register", Memory Map Select). */
static void text_window(const struct vga *v, uint64_t *base, uint64_t *size)
{
	static const uint64_t bases[4] = { 0xa0000, 0xa0000, 0xb0000, 0xb8000 };
	static const uint64_t sizes[4] = { 0x20000, 0x10000, 0x8000, 0x8000 };
	unsigned map = (v->gc[VGA_GC_MISC] >> 2) & 3;
	*base = bases[map];
	*size = sizes[map];
}

static unsigned start_address(const struct vga *v)
{
	return (unsigned)v->crtc[VGA_CRTC_START_HI] << 8 | v->crtc[VGA_CRTC_START_LO];
}

/* Cell n of display memory (in characters from the window start) wraps
 * within the window. */
static uint16_t read_cell(const struct vga *v, unsigned n)
{
	uint64_t base, size;
	uint8_t b[2];
	text_window(v, &base, &size);
	if (phys_copy_out(v->pm, base + ((uint64_t)n * 2 & (size - 1)), b, 2) != 0)
		return 0;
	return (uint16_t)(b[1] << 8 | b[0]);
}

void vga_text_screen(const struct vga *v, uint16_t cells[VGA_ROWS * VGA_COLS])
{
	unsigned start = start_address(v);
	for (unsigned i = 0; i < VGA_ROWS * VGA_COLS; i++)
		cells[i] = read_cell(v, start + i);
}

void vga_text_cell(const struct vga *v, int row, int col, uint8_t *ch, uint8_t *attr)
{
	uint16_t c = 0;
	if (row >= 0 && row < VGA_ROWS && col >= 0 && col < VGA_COLS)
		c = read_cell(v, start_address(v) + (unsigned)(row * VGA_COLS + col));
	*ch = (uint8_t)c;
	*attr = (uint8_t)(c >> 8);
}

void vga_cursor_shape(const struct vga *v, int *start, int *end)
{
	*start = v->crtc[VGA_CRTC_CURSOR_START] & 0x1f;
	*end = v->crtc[VGA_CRTC_CURSOR_END] & 0x1f;
}

int vga_char_height(const struct vga *v)
{
	return (v->crtc[VGA_CRTC_MAX_SCAN] & 0x1f) + 1;
}

/* The cursor location counts characters from the start of display memory,
 * like the start address (FreeVGA "Cursor Location" registers); no cursor
 * shows when it is disabled or its start line is below its end line. */
void vga_cursor(const struct vga *v, int *row, int *col, bool *visible)
{
	unsigned loc = (unsigned)v->crtc[VGA_CRTC_CURSOR_HI] << 8 | v->crtc[VGA_CRTC_CURSOR_LO];
	unsigned pos = (loc - start_address(v)) & 0xffff;
	int start, end;
	vga_cursor_shape(v, &start, &end);
	if (pos >= VGA_ROWS * VGA_COLS) {
		*row = *col = -1;
		*visible = false;
		return;
	}
	*row = (int)(pos / VGA_COLS);
	*col = (int)(pos % VGA_COLS);
	*visible = vga_text_mode(v) && !(v->crtc[VGA_CRTC_CURSOR_START] & VGA_CURSOR_DISABLE) &&
		   start <= end;
}

bool vga_blink_enabled(const struct vga *v)
{
	return v->ac[VGA_AC_MODE] & VGA_AC_MODE_BLINK;
}

bool vga_video_enabled(const struct vga *v)
{
	return v->ac_index & VGA_AC_PAS;
}

bool vga_nine_dot(const struct vga *v)
{
	return !(v->seq[VGA_SEQ_CLOCKING] & 0x01);
}

bool vga_line_graphics(const struct vga *v)
{
	return v->ac[VGA_AC_MODE] & VGA_AC_MODE_LGE;
}

void vga_dac_entry(const struct vga *v, unsigned index, uint8_t rgb[3])
{
	memcpy(rgb, v->dac[index & 0xff], 3);
}

/* Attribute palette register -> DAC index: bits 5-4 come from Colour Select
 * bits 1-0 when Mode Control P54S is set, bits 7-6 always from Colour
 * Select bits 3-2; the PEL mask then gates the index (FreeVGA "Attribute
 * Controller Registers", "DAC Mask Register"). */
uint32_t vga_color_rgb(const struct vga *v, unsigned color)
{
	uint8_t pal = v->ac[color & 0x0f], cs = v->ac[VGA_AC_COLOR_SELECT];
	unsigned idx = pal & 0x3f;
	if (v->ac[VGA_AC_MODE] & VGA_AC_MODE_P54S)
		idx = (idx & 0x0f) | (cs & 0x03) << 4;
	idx |= (cs & 0x0c) << 4;
	idx &= v->dac_mask;
	uint32_t rgb = 0;
	for (int c = 0; c < 3; c++) {
		unsigned x = v->dac[idx][c];
		rgb = rgb << 8 | (x << 2 | x >> 4);
	}
	return rgb;
}

/* ---- code page 437 ---- */

/* The IBM PC character ROM's glyphs as Unicode: 0x01-0x1F and 0x7F are
 * pictures, not controls (Wikipedia "Code page 437", character set table;
 * 0x80-0xFF as in the Unicode consortium's CP437 mapping). 0x20-0x7E are
 * ASCII and not listed. */
static const uint16_t cp437_low[32] = {
	0x0000, 0x263a, 0x263b, 0x2665, 0x2666, 0x2663, 0x2660, 0x2022,
	0x25d8, 0x25cb, 0x25d9, 0x2642, 0x2640, 0x266a, 0x266b, 0x263c,
	0x25ba, 0x25c4, 0x2195, 0x203c, 0x00b6, 0x00a7, 0x25ac, 0x21a8,
	0x2191, 0x2193, 0x2192, 0x2190, 0x221f, 0x2194, 0x25b2, 0x25bc,
};

static const uint16_t cp437_high[128] = {
	/* 80 */ 0x00c7, 0x00fc, 0x00e9, 0x00e2, 0x00e4, 0x00e0, 0x00e5, 0x00e7,
	/* 88 */ 0x00ea, 0x00eb, 0x00e8, 0x00ef, 0x00ee, 0x00ec, 0x00c4, 0x00c5,
	/* 90 */ 0x00c9, 0x00e6, 0x00c6, 0x00f4, 0x00f6, 0x00f2, 0x00fb, 0x00f9,
	/* 98 */ 0x00ff, 0x00d6, 0x00dc, 0x00a2, 0x00a3, 0x00a5, 0x20a7, 0x0192,
	/* A0 */ 0x00e1, 0x00ed, 0x00f3, 0x00fa, 0x00f1, 0x00d1, 0x00aa, 0x00ba,
	/* A8 */ 0x00bf, 0x2310, 0x00ac, 0x00bd, 0x00bc, 0x00a1, 0x00ab, 0x00bb,
	/* B0 */ 0x2591, 0x2592, 0x2593, 0x2502, 0x2524, 0x2561, 0x2562, 0x2556,
	/* B8 */ 0x2555, 0x2563, 0x2551, 0x2557, 0x255d, 0x255c, 0x255b, 0x2510,
	/* C0 */ 0x2514, 0x2534, 0x252c, 0x251c, 0x2500, 0x253c, 0x255e, 0x255f,
	/* C8 */ 0x255a, 0x2554, 0x2569, 0x2566, 0x2560, 0x2550, 0x256c, 0x2567,
	/* D0 */ 0x2568, 0x2564, 0x2565, 0x2559, 0x2558, 0x2552, 0x2553, 0x256b,
	/* D8 */ 0x256a, 0x2518, 0x250c, 0x2588, 0x2584, 0x258c, 0x2590, 0x2580,
	/* E0 */ 0x03b1, 0x00df, 0x0393, 0x03c0, 0x03a3, 0x03c3, 0x00b5, 0x03c4,
	/* E8 */ 0x03a6, 0x0398, 0x03a9, 0x03b4, 0x221e, 0x03c6, 0x03b5, 0x2229,
	/* F0 */ 0x2261, 0x00b1, 0x2265, 0x2264, 0x2320, 0x2321, 0x00f7, 0x2248,
	/* F8 */ 0x00b0, 0x2219, 0x00b7, 0x221a, 0x207f, 0x00b2, 0x25a0, 0x00a0,
};

uint32_t vga_cp437_unicode(uint8_t c)
{
	if (c < 0x20)
		return cp437_low[c];
	if (c == 0x7f)
		return 0x2302;
	if (c >= 0x80)
		return cp437_high[c - 0x80];
	return c;
}

int vga_cp437_utf8(uint8_t c, char out[4])
{
	uint32_t u = c ? vga_cp437_unicode(c) : ' ';
	if (u < 0x80) {
		out[0] = (char)u;
		return 1;
	}
	if (u < 0x800) {
		out[0] = (char)(0xc0 | u >> 6);
		out[1] = (char)(0x80 | (u & 0x3f));
		return 2;
	}
	out[0] = (char)(0xe0 | u >> 12);
	out[1] = (char)(0x80 | ((u >> 6) & 0x3f));
	out[2] = (char)(0x80 | (u & 0x3f));
	return 3;
}

/* ---- dumps ---- */

int vga_dump_text(const struct vga *v, FILE *out)
{
	uint16_t cells[VGA_ROWS * VGA_COLS];
	vga_text_screen(v, cells);
	for (int r = 0; r < VGA_ROWS; r++) {
		const uint16_t *row = &cells[r * VGA_COLS];
		int n = VGA_COLS;
		while (n > 0 && ((row[n - 1] & 0xff) == ' ' || (row[n - 1] & 0xff) == 0))
			n--;
		for (int c = 0; c < n; c++) {
			char u[4];
			fwrite(u, 1, (size_t)vga_cp437_utf8((uint8_t)row[c], u), out);
		}
		fputc('\n', out);
	}
	return ferror(out) ? -1 : 0;
}

static void dump_bytes(FILE *out, const char *name, const uint8_t *b, int n)
{
	fprintf(out, "  %-4s", name);
	for (int i = 0; i < n; i++)
		fprintf(out, " %02x", b[i]);
	fputc('\n', out);
}

void vga_dump(void *opaque, FILE *out)
{
	const struct vga *v = opaque;
	int row, col;
	bool vis;
	vga_cursor(v, &row, &col, &vis);
	fprintf(out, "vga: misc=%02x (%s) %s mode, start=%04x cursor=%d,%d%s\n", v->misc,
		(v->misc & VGA_MISC_IOAS) ? "colour 3Dx" : "mono 3Bx", vga_text_mode(v) ? "text" : "graphics",
		start_address(v), row, col, vis ? "" : " (hidden)");
	dump_bytes(out, "seq", v->seq, 5);
	dump_bytes(out, "gc", v->gc, 9);
	dump_bytes(out, "crtc", v->crtc, 25);
	dump_bytes(out, "ac", v->ac, VGA_NAC);
	fprintf(out, "  ac-index=%02x flip-flop=%s dac: mask=%02x read=%02x write=%02x step=%u\n", v->ac_index,
		v->ac_data_next ? "data" : "index", v->dac_mask, v->dac_read_index, v->dac_write_index,
		v->dac_step);
}
