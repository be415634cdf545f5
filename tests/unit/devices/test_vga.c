/* devices/vga.c: registers read back, the cursor, the text dump (start
 * address, CP437), Input Status 1 timing, the attribute flip-flop, the DAC
 * and the mono/colour port switch. */
#include <CUnit/CUnit.h>
#include <stdlib.h>
#include <string.h>

#include "devices/vga.h"
#include "sim/clock.h"

#define DOT_28M 28322000u       /* 1 cycle = 1 dot of the 28.322 MHz clock */

struct rig {
	struct pio_bus *bus;
	struct phys_map pm;
	struct clock ck;
	struct vga *v;
};

static void rig_init(struct rig *r, uint64_t hz)
{
	memset(r, 0, sizeof(*r));
	r->bus = malloc(sizeof(*r->bus));
	CU_ASSERT_PTR_NOT_NULL_FATAL(r->bus);
	pio_init(r->bus);
	CU_ASSERT_EQUAL_FATAL(phys_init(&r->pm, 1u << 20), 0);
	CU_ASSERT_EQUAL_FATAL(clock_init(&r->ck, hz), 0);
	r->v = vga_create(r->bus, &r->pm, &r->ck);
	CU_ASSERT_PTR_NOT_NULL_FATAL(r->v);
}

static void rig_fini(struct rig *r)
{
	vga_destroy(r->v);
	clock_destroy(&r->ck);
	phys_destroy(&r->pm);
	free(r->bus);
}

static uint8_t in8(struct rig *r, uint16_t port)
{
	return (uint8_t)pio_read(r->bus, port, 1);
}

static void out8(struct rig *r, uint16_t port, uint8_t v)
{
	pio_write(r->bus, port, v, 1);
}

static uint8_t crtc_read(struct rig *r, uint8_t index)
{
	out8(r, VGA_CRTC_INDEX, index);
	return in8(r, VGA_CRTC_DATA);
}

/* The usual driver idiom: one outw writes the index and the data. */
static void crtc_write(struct rig *r, uint8_t index, uint8_t val)
{
	pio_write(r->bus, VGA_CRTC_INDEX, (uint32_t)val << 8 | index, 2);
}

static void put_text(struct rig *r, unsigned cell, const char *s, uint8_t attr)
{
	for (; *s; s++, cell++)
		phys_write(&r->pm, 0xb8000 + 2 * cell, (uint32_t)attr << 8 | (uint8_t)*s, 2);
}

/* The dump as a string (caller frees). */
static char *dump(struct rig *r)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	CU_ASSERT_EQUAL(vga_dump_text(r->v, f), 0);
	fclose(f);
	return buf;
}

static void test_reset_state(void)
{
	struct rig r;
	rig_init(&r, DOT_28M);
	static const uint8_t crtc3[] = { 0x5f, 0x4f, 0x50, 0x82, 0x55, 0x81, 0xbf, 0x1f, 0x00, 0x4f };
	CU_ASSERT_EQUAL(in8(&r, VGA_MISC_READ), 0x67);
	for (unsigned i = 0; i < sizeof(crtc3); i++)
		CU_ASSERT_EQUAL(crtc_read(&r, (uint8_t)i), crtc3[i]);
	out8(&r, VGA_SEQ_INDEX, 4);
	CU_ASSERT_EQUAL(in8(&r, VGA_SEQ_DATA), 0x02);
	out8(&r, VGA_GC_INDEX, VGA_GC_MISC);
	CU_ASSERT_EQUAL(in8(&r, VGA_GC_DATA), 0x0e);
	CU_ASSERT_TRUE(vga_text_mode(r.v));
	CU_ASSERT_TRUE(vga_blink_enabled(r.v));
	CU_ASSERT_TRUE(vga_video_enabled(r.v));
	CU_ASSERT_TRUE(vga_nine_dot(r.v));
	CU_ASSERT_EQUAL(vga_char_height(r.v), 16);
	CU_ASSERT_EQUAL(vga_color_rgb(r.v, 0x6), 0xaa5500);     /* brown: DAC 0x14 */
	CU_ASSERT_EQUAL(vga_color_rgb(r.v, 0x9), 0x5555ff);
	CU_ASSERT_EQUAL(vga_color_rgb(r.v, 0xf), 0xffffff);
	/* Ports are claimed: a second chip cannot register. */
	CU_ASSERT_PTR_NULL(vga_create(r.bus, &r.pm, &r.ck));
	rig_fini(&r);
}

static void test_cursor(void)
{
	struct rig r;
	rig_init(&r, DOT_28M);
	int row, col;
	bool vis;
	crtc_write(&r, VGA_CRTC_CURSOR_HI, 0x01);
	crtc_write(&r, VGA_CRTC_CURSOR_LO, 0x2c);       /* 300 = row 3, col 60 */
	CU_ASSERT_EQUAL(crtc_read(&r, VGA_CRTC_CURSOR_HI), 0x01);
	CU_ASSERT_EQUAL(crtc_read(&r, VGA_CRTC_CURSOR_LO), 0x2c);
	vga_cursor(r.v, &row, &col, &vis);
	CU_ASSERT_EQUAL(row, 3);
	CU_ASSERT_EQUAL(col, 60);
	CU_ASSERT_TRUE(vis);
	crtc_write(&r, VGA_CRTC_START_LO, 80);          /* screen starts one row later */
	vga_cursor(r.v, &row, &col, &vis);
	CU_ASSERT_EQUAL(row, 2);
	CU_ASSERT_EQUAL(col, 60);
	crtc_write(&r, VGA_CRTC_CURSOR_START, 0x0d | VGA_CURSOR_DISABLE);
	vga_cursor(r.v, &row, &col, &vis);
	CU_ASSERT_EQUAL(row, 2);
	CU_ASSERT_FALSE(vis);
	crtc_write(&r, VGA_CRTC_CURSOR_START, 0x0f);    /* start below end: no cursor */
	vga_cursor(r.v, &row, &col, &vis);
	CU_ASSERT_FALSE(vis);
	crtc_write(&r, VGA_CRTC_CURSOR_START, 0x00);
	int s, e;
	vga_cursor_shape(r.v, &s, &e);
	CU_ASSERT_EQUAL(s, 0);
	CU_ASSERT_EQUAL(e, 0x0e);
	vga_cursor(r.v, &row, &col, &vis);
	CU_ASSERT_TRUE(vis);
	crtc_write(&r, VGA_CRTC_CURSOR_LO, 10);         /* before the start address */
	crtc_write(&r, VGA_CRTC_CURSOR_HI, 0);
	vga_cursor(r.v, &row, &col, &vis);
	CU_ASSERT_EQUAL(row, -1);
	CU_ASSERT_EQUAL(col, -1);
	CU_ASSERT_FALSE(vis);
	rig_fini(&r);
}

static void test_dump_exact(void)
{
	struct rig r;
	rig_init(&r, DOT_28M);
	put_text(&r, 0, "Hello, VGA", 0x1f);
	static const uint8_t box[] = { 0xda, 0xc4, 0xc4, 0xbf, 0x00, 0x01, 0xdb, 0x7f, 0xe1, 0x82, ' ', ' ' };
	for (unsigned i = 0; i < sizeof(box); i++)
		phys_write(&r.pm, 0xb8000 + 2 * (VGA_COLS + i), 0x4e00u | box[i], 2);
	phys_write(&r.pm, 0xb8000 + 2 * (24 * VGA_COLS + 79), 0x07u << 8 | 'z', 2);
	char *text = dump(&r);
	const char *want =
		"Hello, VGA\n"
		"\u250c\u2500\u2500\u2510 \u263a\u2588\u2302\u00df\u00e9\n"
		"\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n"
		"                                                                               z\n";
	CU_ASSERT_STRING_EQUAL(text, want);
	free(text);
	uint8_t ch, attr;
	vga_text_cell(r.v, 1, 1, &ch, &attr);
	CU_ASSERT_EQUAL(ch, 0xc4);
	CU_ASSERT_EQUAL(attr, 0x4e);
	rig_fini(&r);
}

static void test_start_address_shifts_dump(void)
{
	struct rig r;
	rig_init(&r, DOT_28M);
	for (unsigned row = 0; row < 30; row++) {
		char s[16];
		snprintf(s, sizeof(s), "row %u", row);
		put_text(&r, row * VGA_COLS, s, 0x07);
	}
	crtc_write(&r, VGA_CRTC_START_HI, 0x01);
	crtc_write(&r, VGA_CRTC_START_LO, 0x90);        /* 400 = 5 rows */
	char *text = dump(&r);
	CU_ASSERT_EQUAL(strncmp(text, "row 5\nrow 6\n", 12), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(text, "row 29\n"));
	CU_ASSERT_PTR_NULL(strstr(text, "row 4\n"));
	free(text);
	crtc_write(&r, VGA_CRTC_START_LO, 0x95);        /* 405: rows start mid-line */
	text = dump(&r);
	CU_ASSERT_EQUAL(strncmp(text, "                                                                           row 6\n", 81), 0);
	free(text);
	rig_fini(&r);
}

/* Mode 3: 100 characters of 9 dots per line, 449 lines, vertical retrace
 * lines 412-413, display 720 dots x 400 lines. One cycle per dot. */
static void test_isr1_timing(void)
{
	struct rig r;
	rig_init(&r, DOT_28M);
	const uint64_t frame = 900 * 449;
	static const struct { uint64_t t; uint8_t isr; } pts[] = {
		{ 0, 0 },
		{ 719, 0 },
		{ 720, VGA_ISR1_DD },                           /* horizontal blanking */
		{ 899, VGA_ISR1_DD },
		{ 900, 0 },
		{ 400 * 900 - 181, 0 },                         /* last active dot */
		{ 400 * 900, VGA_ISR1_DD },
		{ 412 * 900 - 1, VGA_ISR1_DD },
		{ 412 * 900, VGA_ISR1_DD | VGA_ISR1_VRETRACE },
		{ 414 * 900 - 1, VGA_ISR1_DD | VGA_ISR1_VRETRACE },
		{ 414 * 900, VGA_ISR1_DD },
		{ 900 * 449, 0 },                               /* next frame */
		{ 900 * 449 + 412 * 900 + 5, VGA_ISR1_DD | VGA_ISR1_VRETRACE },
	};
	for (unsigned i = 0; i < sizeof(pts) / sizeof(pts[0]); i++) {
		clock_run_until(&r.ck, pts[i].t);
		CU_ASSERT_EQUAL(in8(&r, VGA_ISR1) & 0x09, pts[i].isr);
	}
	/* 8-dot characters: the line is 800 dots, retrace starts at 412 * 800. */
	out8(&r, VGA_SEQ_INDEX, VGA_SEQ_CLOCKING);
	out8(&r, VGA_SEQ_DATA, 0x01);
	clock_run_until(&r.ck, 100 * frame);
	uint64_t base = (100 * frame) / (800 * 449) * (800 * 449) + 800 * 449;
	clock_run_until(&r.ck, base + 412 * 800 - 1);
	CU_ASSERT_EQUAL(in8(&r, VGA_ISR1) & VGA_ISR1_VRETRACE, 0);
	clock_run_until(&r.ck, base + 412 * 800);
	CU_ASSERT_EQUAL(in8(&r, VGA_ISR1) & VGA_ISR1_VRETRACE, VGA_ISR1_VRETRACE);
	rig_fini(&r);
}

/* At a 3 GHz TSC the retrace edges come 70.087 times a second: count
 * rising edges of bit 3 sampled every 10 us over one simulated second. */
static void test_isr1_rate(void)
{
	struct rig r;
	rig_init(&r, 3000000000ull);
	int edges = 0;
	bool prev = false;
	for (uint64_t t = 0; t < 3000000000ull; t += 30000) {
		clock_run_until(&r.ck, t);
		bool vr = in8(&r, VGA_ISR1) & VGA_ISR1_VRETRACE;
		edges += vr && !prev;
		prev = vr;
	}
	CU_ASSERT_EQUAL(edges, 70);
	rig_fini(&r);
}

/* CR11 bit 7 write-protects CR00-CR07 (but CR07 bit 4); the timing follows
 * the registers once they are writable. */
static void test_crtc_protect(void)
{
	struct rig r;
	rig_init(&r, DOT_28M);
	crtc_write(&r, VGA_CRTC_HTOTAL, 0x10);
	CU_ASSERT_EQUAL(crtc_read(&r, VGA_CRTC_HTOTAL), 0x5f);
	crtc_write(&r, VGA_CRTC_OVERFLOW, 0x00);
	CU_ASSERT_EQUAL(crtc_read(&r, VGA_CRTC_OVERFLOW), 0x0f);     /* only bit 4 changed */
	crtc_write(&r, VGA_CRTC_OVERFLOW, 0x1f);
	crtc_write(&r, VGA_CRTC_VRETRACE_END, 0x0e);                 /* clear protect */
	crtc_write(&r, VGA_CRTC_HTOTAL, 0x5f + 10);                  /* 110 chars per line */
	CU_ASSERT_EQUAL(crtc_read(&r, VGA_CRTC_HTOTAL), 0x69);
	clock_run_until(&r.ck, 412 * 990 - 1);
	CU_ASSERT_EQUAL(in8(&r, VGA_ISR1) & VGA_ISR1_VRETRACE, 0);
	clock_run_until(&r.ck, 412 * 990);
	CU_ASSERT_EQUAL(in8(&r, VGA_ISR1) & VGA_ISR1_VRETRACE, VGA_ISR1_VRETRACE);
	crtc_write(&r, 0x40, 0xa5);                                   /* beyond CR18: scratch */
	CU_ASSERT_EQUAL(crtc_read(&r, 0x40), 0xa5);
	rig_fini(&r);
}

static void test_attribute_flip_flop(void)
{
	struct rig r;
	rig_init(&r, DOT_28M);
	in8(&r, VGA_ISR1);
	out8(&r, VGA_AC_INDEX, VGA_AC_PAS | VGA_AC_MODE);
	out8(&r, VGA_AC_INDEX, 0x04);                   /* data: blink off */
	CU_ASSERT_FALSE(vga_blink_enabled(r.v));
	CU_ASSERT_EQUAL(in8(&r, VGA_AC_READ), 0x04);
	out8(&r, VGA_AC_INDEX, VGA_AC_PAS | 0x11);      /* flip-flop back at index */
	CU_ASSERT_EQUAL(in8(&r, VGA_AC_INDEX), VGA_AC_PAS | 0x11);
	in8(&r, VGA_ISR1);                              /* resets the flip-flop to index */
	out8(&r, VGA_AC_INDEX, VGA_AC_PAS | VGA_AC_MODE);       /* so this is an index */
	CU_ASSERT_EQUAL(in8(&r, VGA_AC_INDEX), VGA_AC_PAS | VGA_AC_MODE);
	out8(&r, VGA_AC_INDEX, 0x0c);
	CU_ASSERT_TRUE(vga_blink_enabled(r.v));
	out8(&r, VGA_AC_INDEX, VGA_AC_PAS | 0x11);
	CU_ASSERT_EQUAL(in8(&r, VGA_AC_READ), 0x00);    /* overscan untouched */
	/* Palette registers are locked while PAS is set. */
	out8(&r, VGA_AC_INDEX, 0x11);                   /* data for 0x11 */
	out8(&r, VGA_AC_INDEX, VGA_AC_PAS | 0x01);
	out8(&r, VGA_AC_INDEX, 0x3f);
	out8(&r, VGA_AC_INDEX, 0x01);
	CU_ASSERT_EQUAL(in8(&r, VGA_AC_READ), 0x01);
	CU_ASSERT_FALSE(vga_video_enabled(r.v));        /* PAS clear: screen off */
	out8(&r, VGA_AC_INDEX, 0x3f);
	CU_ASSERT_EQUAL(in8(&r, VGA_AC_READ), 0x3f);
	CU_ASSERT_EQUAL(vga_color_rgb(r.v, 1), 0xffffff);
	out8(&r, VGA_AC_INDEX, VGA_AC_PAS);
	CU_ASSERT_TRUE(vga_video_enabled(r.v));
	rig_fini(&r);
}

static void test_dac(void)
{
	struct rig r;
	rig_init(&r, DOT_28M);
	uint8_t rgb[3];
	out8(&r, VGA_DAC_WRITE_INDEX, 1);
	out8(&r, VGA_DAC_DATA, 0x3f);
	out8(&r, VGA_DAC_DATA, 0x10);
	vga_dac_entry(r.v, 1, rgb);
	CU_ASSERT_EQUAL(rgb[0], 0x00);                  /* nothing stored before the third */
	out8(&r, VGA_DAC_DATA, 0xc1);                   /* 6 bits kept */
	vga_dac_entry(r.v, 1, rgb);
	CU_ASSERT_EQUAL(rgb[0], 0x3f);
	CU_ASSERT_EQUAL(rgb[1], 0x10);
	CU_ASSERT_EQUAL(rgb[2], 0x01);
	CU_ASSERT_EQUAL(in8(&r, VGA_DAC_WRITE_INDEX), 2);
	CU_ASSERT_EQUAL(in8(&r, VGA_DAC_READ_INDEX), 0x00);     /* state: write mode */
	for (int i = 0; i < 3; i++)                     /* auto-increment: entry 2 */
		out8(&r, VGA_DAC_DATA, (uint8_t)(i + 7));
	out8(&r, VGA_DAC_READ_INDEX, 1);
	CU_ASSERT_EQUAL(in8(&r, VGA_DAC_READ_INDEX), 0x03);     /* state: read mode */
	static const uint8_t want[6] = { 0x3f, 0x10, 0x01, 7, 8, 9 };
	for (int i = 0; i < 6; i++)
		CU_ASSERT_EQUAL(in8(&r, VGA_DAC_DATA), want[i]);
	CU_ASSERT_EQUAL(vga_color_rgb(r.v, 1), 0xff4104);
	out8(&r, VGA_DAC_MASK, 0xfe);                   /* PEL mask: colour 1 -> DAC 0 */
	CU_ASSERT_EQUAL(in8(&r, VGA_DAC_MASK), 0xfe);
	CU_ASSERT_EQUAL(vga_color_rgb(r.v, 1), 0x000000);
	rig_fini(&r);
}

static void test_mono_alias(void)
{
	struct rig r;
	rig_init(&r, DOT_28M);
	crtc_write(&r, VGA_CRTC_CURSOR_LO, 0x42);
	CU_ASSERT_EQUAL(in8(&r, VGA_CRTC_DATA_MONO), 0xff);     /* mono ports float */
	out8(&r, VGA_MISC_WRITE, 0x66);                         /* I/OAS = 0: mono */
	CU_ASSERT_EQUAL(in8(&r, VGA_MISC_READ), 0x66);
	CU_ASSERT_EQUAL(in8(&r, VGA_CRTC_DATA), 0xff);
	out8(&r, VGA_CRTC_INDEX_MONO, VGA_CRTC_CURSOR_LO);
	CU_ASSERT_EQUAL(in8(&r, VGA_CRTC_DATA_MONO), 0x42);     /* same registers */
	out8(&r, VGA_CRTC_DATA_MONO, 0x43);
	pio_write(r.bus, VGA_CRTC_INDEX, 0x990f, 2);            /* dropped */
	/* 0x3DA does not reset the flip-flop now; 0x3BA does. */
	out8(&r, VGA_AC_INDEX, VGA_AC_PAS | 0x13);
	CU_ASSERT_EQUAL(in8(&r, VGA_ISR1), 0xff);
	out8(&r, VGA_AC_INDEX, 0x05);                           /* data for 0x13 */
	CU_ASSERT_EQUAL(in8(&r, VGA_AC_READ), 0x05);
	in8(&r, VGA_ISR1_MONO);
	out8(&r, VGA_AC_INDEX, VGA_AC_PAS | 0x14);
	CU_ASSERT_EQUAL(in8(&r, VGA_AC_INDEX), VGA_AC_PAS | 0x14);
	out8(&r, VGA_MISC_WRITE, 0x67);
	CU_ASSERT_EQUAL(crtc_read(&r, VGA_CRTC_CURSOR_LO), 0x43);
	CU_ASSERT_EQUAL(in8(&r, VGA_CRTC_INDEX_MONO), 0xff);
	rig_fini(&r);
}

/* Register masks, the memory map select and graphics mode. */
static void test_seq_gc(void)
{
	struct rig r;
	rig_init(&r, DOT_28M);
	pio_write(r.bus, VGA_SEQ_INDEX, 0xff02, 2);
	CU_ASSERT_EQUAL(in8(&r, VGA_SEQ_DATA), 0x0f);           /* map mask: 4 bits */
	out8(&r, VGA_SEQ_INDEX, 0x0a);                          /* 3-bit index: SR02 */
	CU_ASSERT_EQUAL(in8(&r, VGA_SEQ_INDEX), 0x02);
	CU_ASSERT_EQUAL(in8(&r, VGA_SEQ_DATA), 0x0f);
	phys_write(&r.pm, 0xb0000, 0x0741, 2);                  /* 'A' in the mono window */
	put_text(&r, 0, "B", 0x07);
	char *text = dump(&r);
	CU_ASSERT_EQUAL(text[0], 'B');
	free(text);
	pio_write(r.bus, VGA_GC_INDEX, 0x0a06, 2);              /* map select 10: B0000 */
	CU_ASSERT_EQUAL(in8(&r, VGA_GC_DATA), 0x0a);
	text = dump(&r);
	CU_ASSERT_EQUAL(text[0], 'A');
	free(text);
	CU_ASSERT_TRUE(vga_text_mode(r.v));
	pio_write(r.bus, VGA_GC_INDEX, 0x0506, 2);              /* graphics, A0000 64K */
	CU_ASSERT_FALSE(vga_text_mode(r.v));
	int row, col;
	bool vis;
	vga_cursor(r.v, &row, &col, &vis);
	CU_ASSERT_FALSE(vis);
	vga_reset(r.v);
	CU_ASSERT_TRUE(vga_text_mode(r.v));
	rig_fini(&r);
}

static void test_cp437(void)
{
	CU_ASSERT_EQUAL(vga_cp437_unicode(0x00), 0);
	CU_ASSERT_EQUAL(vga_cp437_unicode(0x01), 0x263a);
	CU_ASSERT_EQUAL(vga_cp437_unicode('A'), 'A');
	CU_ASSERT_EQUAL(vga_cp437_unicode(0x7f), 0x2302);
	CU_ASSERT_EQUAL(vga_cp437_unicode(0xb3), 0x2502);
	CU_ASSERT_EQUAL(vga_cp437_unicode(0xc4), 0x2500);
	CU_ASSERT_EQUAL(vga_cp437_unicode(0xe3), 0x03c0);
	CU_ASSERT_EQUAL(vga_cp437_unicode(0xff), 0x00a0);
	/* Every non-NUL code is a distinct character. */
	for (unsigned a = 1; a < 256; a++)
		for (unsigned b = a + 1; b < 256; b++)
			if (vga_cp437_unicode((uint8_t)a) == vga_cp437_unicode((uint8_t)b))
				CU_FAIL("two CP437 codes map to one code point");
	char u[4];
	CU_ASSERT_EQUAL(vga_cp437_utf8(0, u), 1);
	CU_ASSERT_EQUAL(u[0], ' ');
	CU_ASSERT_EQUAL(vga_cp437_utf8(0x82, u), 2);
	CU_ASSERT_EQUAL(memcmp(u, "\u00e9", 2), 0);
	CU_ASSERT_EQUAL(vga_cp437_utf8(0xc4, u), 3);
	CU_ASSERT_EQUAL(memcmp(u, "\u2500", 3), 0);
}

void suite_dev_vga(void)
{
	CU_pSuite s = CU_add_suite("dev_vga", NULL, NULL);
	CU_add_test(s, "reset state is mode 3", test_reset_state);
	CU_add_test(s, "cursor registers and vga_cursor", test_cursor);
	CU_add_test(s, "text dump: attributes, CP437, trimming", test_dump_exact);
	CU_add_test(s, "start address shifts the dump", test_start_address_shifts_dump);
	CU_add_test(s, "Input Status 1 at known times", test_isr1_timing);
	CU_add_test(s, "vertical retrace at 70 Hz", test_isr1_rate);
	CU_add_test(s, "CRTC write protect and derived timing", test_crtc_protect);
	CU_add_test(s, "attribute flip-flop, PAS, blink", test_attribute_flip_flop);
	CU_add_test(s, "DAC 3-step index and PEL mask", test_dac);
	CU_add_test(s, "mono/colour port switch", test_mono_alias);
	CU_add_test(s, "sequencer/GC masks, memory map", test_seq_gc);
	CU_add_test(s, "CP437 to Unicode", test_cp437);
}
