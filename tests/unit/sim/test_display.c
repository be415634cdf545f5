/* sim/display.c: scan-code set 2 bytes, the PSF font loader (synthetic
 * fonts and the installed console fonts), the text renderer's pixels, and
 * an SDL smoke test on the dummy video driver. */
#include <CUnit/CUnit.h>
#include <SDL.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "sim/clock.h"
#include "sim/display.h"

static int set2(int sc, bool pressed, uint8_t out[DISPLAY_SET2_MAX])
{
	memset(out, 0xaa, DISPLAY_SET2_MAX);
	return display_set2_bytes(sc, pressed, out);
}

static void expect_set2(int sc, bool pressed, const uint8_t *want, int n)
{
	uint8_t out[DISPLAY_SET2_MAX];
	int got = set2(sc, pressed, out);
	CU_ASSERT_EQUAL(got, n);
	if (got == n)
		CU_ASSERT_EQUAL(memcmp(out, want, (size_t)n), 0);
	if (got != n || memcmp(out, want, (size_t)n))
		fprintf(stderr, "\n  scancode %d %s: %d bytes, first %02x\n", sc, pressed ? "down" : "up", got,
			out[0]);
}

static void test_set2_codes(void)
{
	expect_set2(SDL_SCANCODE_A, true, (const uint8_t[]){ 0x1c }, 1);
	expect_set2(SDL_SCANCODE_A, false, (const uint8_t[]){ 0xf0, 0x1c }, 2);
	expect_set2(SDL_SCANCODE_Z, true, (const uint8_t[]){ 0x1a }, 1);
	expect_set2(SDL_SCANCODE_0, true, (const uint8_t[]){ 0x45 }, 1);
	expect_set2(SDL_SCANCODE_RETURN, true, (const uint8_t[]){ 0x5a }, 1);
	expect_set2(SDL_SCANCODE_ESCAPE, false, (const uint8_t[]){ 0xf0, 0x76 }, 2);
	expect_set2(SDL_SCANCODE_F7, true, (const uint8_t[]){ 0x83 }, 1);
	expect_set2(SDL_SCANCODE_LSHIFT, true, (const uint8_t[]){ 0x12 }, 1);
	expect_set2(SDL_SCANCODE_RSHIFT, true, (const uint8_t[]){ 0x59 }, 1);
	expect_set2(SDL_SCANCODE_UP, true, (const uint8_t[]){ 0xe0, 0x75 }, 2);
	expect_set2(SDL_SCANCODE_UP, false, (const uint8_t[]){ 0xe0, 0xf0, 0x75 }, 3);
	expect_set2(SDL_SCANCODE_RCTRL, true, (const uint8_t[]){ 0xe0, 0x14 }, 2);
	expect_set2(SDL_SCANCODE_RALT, false, (const uint8_t[]){ 0xe0, 0xf0, 0x11 }, 3);
	expect_set2(SDL_SCANCODE_KP_ENTER, true, (const uint8_t[]){ 0xe0, 0x5a }, 2);
	expect_set2(SDL_SCANCODE_KP_DIVIDE, true, (const uint8_t[]){ 0xe0, 0x4a }, 2);
	expect_set2(SDL_SCANCODE_KP_7, true, (const uint8_t[]){ 0x6c }, 1);
	expect_set2(SDL_SCANCODE_HOME, true, (const uint8_t[]){ 0xe0, 0x6c }, 2);
	expect_set2(SDL_SCANCODE_PRINTSCREEN, true, (const uint8_t[]){ 0xe0, 0x12, 0xe0, 0x7c }, 4);
	expect_set2(SDL_SCANCODE_PRINTSCREEN, false, (const uint8_t[]){ 0xe0, 0xf0, 0x7c, 0xe0, 0xf0, 0x12 }, 6);
	expect_set2(SDL_SCANCODE_PAUSE, true,
		    (const uint8_t[]){ 0xe1, 0x14, 0x77, 0xe1, 0xf0, 0x14, 0xf0, 0x77 }, 8);
	uint8_t out[DISPLAY_SET2_MAX];
	CU_ASSERT_EQUAL(set2(SDL_SCANCODE_PAUSE, false, out), 0);      /* no break code */
	CU_ASSERT_EQUAL(set2(SDL_SCANCODE_UNKNOWN, true, out), 0);
	CU_ASSERT_EQUAL(set2(SDL_SCANCODE_F24, true, out), 0);
	CU_ASSERT_EQUAL(set2(-1, true, out), 0);
	CU_ASSERT_EQUAL(set2(SDL_NUM_SCANCODES, true, out), 0);
}

/* No two keys send the same bytes (ISO's non-US # shares the US
 * backslash's position and code), and no make code is a prefix byte. */
static void test_set2_distinct(void)
{
	static uint16_t seen[512];
	memset(seen, 0, sizeof(seen));
	int mapped = 0;
	for (int sc = 1; sc < SDL_NUM_SCANCODES; sc++) {
		uint8_t out[DISPLAY_SET2_MAX];
		int n = set2(sc, true, out);
		if (n == 0 || sc == SDL_SCANCODE_PAUSE || sc == SDL_SCANCODE_PRINTSCREEN)
			continue;
		mapped++;
		CU_ASSERT(n == 1 || (n == 2 && out[0] == 0xe0));
		uint8_t code = out[n - 1];
		CU_ASSERT(code != 0xe0 && code != 0xe1 && code != 0xf0 && code != 0);
		unsigned key = (n == 2) << 8 | code;
		if (seen[key] && !(sc == SDL_SCANCODE_NONUSHASH && seen[key] == SDL_SCANCODE_BACKSLASH))
			CU_FAIL("two SDL scancodes share a set 2 code");
		seen[key] = (uint16_t)sc;
	}
	CU_ASSERT(mapped >= 104);       /* a full 104-key PC keyboard and more */
}

/* ---- fonts ---- */

static void put_le32(uint8_t *b, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		b[i] = (uint8_t)(v >> (8 * i));
}

/* A 4-glyph, 8x4 PSF 2 font: glyph 0 'A', glyph 1 U+2500 (and a sequence
 * that must be ignored), glyph 2 '?', glyph 3 U+25B6. Written gzipped when
 * gz is true. */
static void write_psf2(const char *path, bool gz)
{
	uint8_t buf[256] = { 0 };
	put_le32(buf, 0x864ab572u);
	put_le32(buf + 8, 32);          /* header size */
	put_le32(buf + 12, 1);          /* Unicode table */
	put_le32(buf + 16, 4);
	put_le32(buf + 20, 4);
	put_le32(buf + 24, 4);
	put_le32(buf + 28, 8);
	static const uint8_t glyphs[16] = { 0x18, 0x24, 0x7e, 0x42, 0x00, 0xff, 0x00, 0x00,
					    0x3c, 0x04, 0x08, 0x08, 0x80, 0xc0, 0xe0, 0xc0 };
	memcpy(buf + 32, glyphs, 16);
	static const uint8_t table[] = { 'A', 0xff, 0xe2, 0x94, 0x80, 0xfe, 'x', 'y', 0xff, '?', 0xff,
					 0xe2, 0x96, 0xb6, 0xff };
	memcpy(buf + 48, table, sizeof(table));
	size_t len = 48 + sizeof(table);
	if (gz) {
		gzFile f = gzopen(path, "wb");
		CU_ASSERT_PTR_NOT_NULL_FATAL(f);
		CU_ASSERT_EQUAL(gzwrite(f, buf, (unsigned)len), (int)len);
		gzclose(f);
	} else {
		FILE *f = fopen(path, "wb");
		CU_ASSERT_PTR_NOT_NULL_FATAL(f);
		CU_ASSERT_EQUAL(fwrite(buf, 1, len, f), len);
		fclose(f);
	}
}

static void test_font_synthetic(void)
{
	char path[] = "/tmp/vtxsim-font-XXXXXX";
	int fd = mkstemp(path);
	CU_ASSERT_FATAL(fd >= 0);
	close(fd);
	for (int gz = 0; gz < 2; gz++) {
		write_psf2(path, gz);
		static struct display_font f;
		char err[256] = "";
		const char *paths[] = { path };
		CU_ASSERT_EQUAL_FATAL(display_font_load(&f, paths, 1, err, sizeof(err)), 0);
		CU_ASSERT_EQUAL(f.height, 4);
		CU_ASSERT_EQUAL(memcmp(f.glyph['A'], (const uint8_t[]){ 0x18, 0x24, 0x7e, 0x42 }, 4), 0);
		CU_ASSERT_EQUAL(memcmp(f.glyph[0xc4], (const uint8_t[]){ 0x00, 0xff, 0x00, 0x00 }, 4), 0);
		CU_ASSERT_EQUAL(memcmp(f.glyph[0x10], (const uint8_t[]){ 0x80, 0xc0, 0xe0, 0xc0 }, 4), 0);
		CU_ASSERT_EQUAL(memcmp(f.glyph['B'], f.glyph['?'], 4), 0);      /* missing: '?' */
		CU_ASSERT_EQUAL(memcmp(f.glyph['x'], f.glyph['?'], 4), 0);      /* sequences ignored */
		CU_ASSERT_EQUAL(f.glyph[0][0] | f.glyph[0][1] | f.glyph[0][2] | f.glyph[0][3], 0);
		CU_ASSERT_EQUAL(f.missing, 255 - 4);    /* 'A', 0xC4, 0x10 (via U+25B6), '?' */
	}
	/* Not a font; a missing file. */
	FILE *g = fopen(path, "wb");
	CU_ASSERT_PTR_NOT_NULL_FATAL(g);
	fputs("not a font at all, just some text", g);
	fclose(g);
	static struct display_font f;
	char err[256] = "";
	const char *paths[] = { path };
	CU_ASSERT_EQUAL(display_font_load(&f, paths, 1, err, sizeof(err)), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "not an 8-dot PSF font"));
	unlink(path);
	CU_ASSERT_EQUAL(display_font_load(&f, paths, 1, err, sizeof(err)), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, path));
	CU_ASSERT_PTR_NOT_NULL(strstr(err, DISPLAY_FONT_PACKAGE));
	CU_ASSERT_PTR_NULL(strchr(err, '\n'));
}

static bool fonts_installed(void)
{
	if (access(DISPLAY_FONT_PRIMARY, R_OK) == 0 && access(DISPLAY_FONT_FALLBACK, R_OK) == 0)
		return true;
	printf("\n  skipped: %s or %s missing (package %s)\n", DISPLAY_FONT_PRIMARY, DISPLAY_FONT_FALLBACK,
	       DISPLAY_FONT_PACKAGE);
	return false;
}

static int row_bits(const uint8_t *g, int h, uint8_t v)
{
	int n = 0;
	for (int y = 0; y < h; y++)
		n += g[y] == v;
	return n;
}

static void test_font_installed(void)
{
	if (!fonts_installed())
		return;
	static struct display_font f;
	char err[256];
	const char *paths[] = { DISPLAY_FONT_PRIMARY, DISPLAY_FONT_FALLBACK };
	CU_ASSERT_EQUAL_FATAL(display_font_load(&f, paths, 2, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(f.height, 16);
	CU_ASSERT_EQUAL(f.missing, 0);                  /* every CP437 code has its glyph */
	CU_ASSERT_EQUAL(row_bits(f.glyph[' '], 16, 0x00), 16);
	CU_ASSERT_EQUAL(row_bits(f.glyph[0xdb], 16, 0xff), 16);          /* full block */
	CU_ASSERT_EQUAL(row_bits(f.glyph[0xdc], 16, 0xff), 8);           /* lower half block */
	CU_ASSERT_TRUE(row_bits(f.glyph[0xc4], 16, 0xff) >= 1);          /* box drawing ─ */
	CU_ASSERT_TRUE(row_bits(f.glyph[0xc4], 16, 0x00) >= 10);
	CU_ASSERT_TRUE(row_bits(f.glyph['A'], 16, 0x00) < 16);
	CU_ASSERT_NOT_EQUAL(memcmp(f.glyph['A'], f.glyph['B'], 16), 0);
	CU_ASSERT_TRUE(row_bits(f.glyph[0x10], 16, 0x00) < 16);          /* ► */
	CU_ASSERT_NOT_EQUAL(memcmp(f.glyph[0x10], f.glyph['?'], 16), 0);
}

/* ---- rendering ---- */

struct rig {
	struct pio_bus *bus;
	struct phys_map pm;
	struct clock ck;
	struct vga *v;
	uint32_t *px;
};

static void rig_init(struct rig *r)
{
	memset(r, 0, sizeof(*r));
	r->bus = malloc(sizeof(*r->bus));
	r->px = calloc(DISPLAY_MAX_W * DISPLAY_MAX_H, sizeof(uint32_t));
	CU_ASSERT_PTR_NOT_NULL_FATAL(r->bus);
	CU_ASSERT_PTR_NOT_NULL_FATAL(r->px);
	pio_init(r->bus);
	CU_ASSERT_EQUAL_FATAL(phys_init(&r->pm, 1u << 20), 0);
	CU_ASSERT_EQUAL_FATAL(clock_init(&r->ck, 1000000), 0);
	r->v = vga_create(r->bus, &r->pm, &r->ck);
	CU_ASSERT_PTR_NOT_NULL_FATAL(r->v);
}

static void rig_fini(struct rig *r)
{
	vga_destroy(r->v);
	clock_destroy(&r->ck);
	phys_destroy(&r->pm);
	free(r->px);
	free(r->bus);
}

#define BLUE 0x0000aau
#define WHITE 0xffffffu
#define YELLOW 0xffff55u
#define RED 0xaa0000u

/* A 4-line font: 'A' = 0x81 0x00 0x00 0x00, 0xC4 = 0x00 0xFF 0x00 0x00. */
static void tiny_font(struct display_font *f)
{
	memset(f, 0, sizeof(*f));
	f->height = 4;
	f->glyph['A'][0] = 0x81;
	f->glyph[0xc4][1] = 0xff;
}

static uint32_t px(const struct rig *r, int row, int col, int y, int x)
{
	return r->px[(size_t)(row * 4 + y) * DISPLAY_MAX_W + (size_t)(col * 9 + x)];
}

static void test_render(void)
{
	struct rig r;
	rig_init(&r);
	static struct display_font f;
	tiny_font(&f);
	int w, h;
	phys_write(&r.pm, 0xb8000, 0x1f00 | 'A', 2);            /* white on blue */
	phys_write(&r.pm, 0xb8002, 0x1e00 | 0xc4, 2);           /* ─ yellow on blue */
	phys_write(&r.pm, 0xb8004, 0xce00 | 'A', 2);            /* blinking */
	phys_write(&r.pm, 0xb8006, 0x0700 | ' ', 2);
	pio_write(r.bus, VGA_CRTC_INDEX, 0x000e, 2);
	pio_write(r.bus, VGA_CRTC_INDEX, 0x030f, 2);            /* cursor at column 3 */
	pio_write(r.bus, VGA_CRTC_INDEX, 0x020a, 2);
	pio_write(r.bus, VGA_CRTC_INDEX, 0x030b, 2);            /* scan lines 2-3 */
	display_render_text(r.v, &f, 0, r.px, DISPLAY_MAX_W, &w, &h);
	CU_ASSERT_EQUAL(w, 720);
	CU_ASSERT_EQUAL(h, 100);
	CU_ASSERT_EQUAL(px(&r, 0, 0, 0, 0), WHITE);
	CU_ASSERT_EQUAL(px(&r, 0, 0, 0, 1), BLUE);
	CU_ASSERT_EQUAL(px(&r, 0, 0, 0, 7), WHITE);
	CU_ASSERT_EQUAL(px(&r, 0, 0, 0, 8), BLUE);              /* 9th dot: background */
	CU_ASSERT_EQUAL(px(&r, 0, 1, 1, 7), YELLOW);
	CU_ASSERT_EQUAL(px(&r, 0, 1, 1, 8), YELLOW);            /* line graphics: 9th = 8th */
	CU_ASSERT_EQUAL(px(&r, 0, 1, 0, 8), BLUE);
	CU_ASSERT_EQUAL(px(&r, 0, 2, 0, 0), YELLOW);            /* blink on phase */
	CU_ASSERT_EQUAL(px(&r, 0, 2, 0, 1), RED);               /* bg 0xC & 7 = red */
	CU_ASSERT_EQUAL(px(&r, 0, 3, 1, 4), 0x000000);          /* cursor cell, above it */
	CU_ASSERT_EQUAL(px(&r, 0, 3, 2, 4), 0xaaaaaa);          /* cursor line in fg (attr 07) */
	CU_ASSERT_EQUAL(px(&r, 0, 3, 3, 8), 0xaaaaaa);
	CU_ASSERT_EQUAL(px(&r, 1, 0, 0, 0), 0x000000);          /* empty RAM: black on black */
	display_render_text(r.v, &f, 16 | 32, r.px, DISPLAY_MAX_W, &w, &h);
	CU_ASSERT_EQUAL(px(&r, 0, 2, 0, 0), RED);               /* blink off: fg hidden */
	CU_ASSERT_EQUAL(px(&r, 0, 3, 2, 4), 0x000000);          /* cursor off phase */
	CU_ASSERT_EQUAL(px(&r, 0, 0, 0, 0), WHITE);
	/* Blink disabled: bit 7 selects a bright background. 8-dot cells. */
	pio_read(r.bus, VGA_ISR1, 1);
	pio_write(r.bus, VGA_AC_INDEX, VGA_AC_PAS | VGA_AC_MODE, 1);
	pio_write(r.bus, VGA_AC_INDEX, 0x00, 1);
	pio_write(r.bus, VGA_SEQ_INDEX, 0x0101, 2);
	display_render_text(r.v, &f, 32, r.px, DISPLAY_MAX_W, &w, &h);
	CU_ASSERT_EQUAL(w, 640);
	CU_ASSERT_EQUAL(r.px[2 * 8 + 0], YELLOW);
	CU_ASSERT_EQUAL(r.px[2 * 8 + 1], 0xff5555);             /* bright red background */
	CU_ASSERT_EQUAL(r.px[1 * 8 + DISPLAY_MAX_W + 7], YELLOW);
	CU_ASSERT_EQUAL(r.px[2 * 8 + DISPLAY_MAX_W], 0xff5555); /* no 9th dot: next cell */
	/* Screen off (PAS clear): black. */
	pio_write(r.bus, VGA_AC_INDEX, 0x00, 1);
	display_render_text(r.v, &f, 0, r.px, DISPLAY_MAX_W, &w, &h);
	CU_ASSERT_EQUAL(r.px[0], 0x000000);
	CU_ASSERT_EQUAL(r.px[1 * 8 + DISPLAY_MAX_W + 7], 0x000000);
	rig_fini(&r);
}

/* ---- SDL on the dummy video driver ---- */

struct keylog {
	uint8_t bytes[16];
	int n;
};

static void keylog_add(void *ctx, uint8_t b)
{
	struct keylog *k = ctx;
	if (k->n < (int)sizeof(k->bytes))
		k->bytes[k->n] = b;
	k->n++;
}

static void push_key(Uint32 type, SDL_Scancode sc)
{
	SDL_Event e = { 0 };
	e.type = type;
	e.key.type = type;
	e.key.state = type == SDL_KEYDOWN ? SDL_PRESSED : SDL_RELEASED;
	e.key.keysym.scancode = sc;
	CU_ASSERT_EQUAL(SDL_PushEvent(&e), 1);
}

static void test_sdl_dummy(void)
{
	if (!fonts_installed())
		return;
	struct rig r;
	rig_init(&r);
	struct keylog log = { 0 };
	char err[256] = "";
	setenv("SDL_VIDEODRIVER", "dummy", 1);
	struct display *d = display_open(r.v, keylog_add, &log, err, sizeof(err));
	if (!d)
		fprintf(stderr, "\n  display_open: %s\n", err);
	CU_ASSERT_PTR_NOT_NULL_FATAL(d);
	display_refresh(d);
	CU_ASSERT_FALSE(display_quit_requested(d));
	push_key(SDL_KEYDOWN, SDL_SCANCODE_LEFT);
	push_key(SDL_KEYUP, SDL_SCANCODE_LEFT);
	push_key(SDL_KEYDOWN, SDL_SCANCODE_Q);
	display_refresh(d);
	CU_ASSERT_EQUAL(log.n, 6);
	CU_ASSERT_EQUAL(memcmp(log.bytes, (const uint8_t[]){ 0xe0, 0x6b, 0xe0, 0xf0, 0x6b, 0x15 }, 6), 0);
	SDL_Event q = { .type = SDL_QUIT };
	SDL_PushEvent(&q);
	display_refresh(d);
	CU_ASSERT_TRUE(display_quit_requested(d));
	display_close(d);
	unsetenv("SDL_VIDEODRIVER");
	rig_fini(&r);
}

void suite_sim_display(void)
{
	CU_pSuite s = CU_add_suite("sim_display", NULL, NULL);
	CU_add_test(s, "set 2 make/break codes", test_set2_codes);
	CU_add_test(s, "set 2 codes are distinct", test_set2_distinct);
	CU_add_test(s, "PSF loader: synthetic fonts, errors", test_font_synthetic);
	CU_add_test(s, "PSF loader: installed console fonts", test_font_installed);
	CU_add_test(s, "text rendering: colours, 9th dot, cursor, blink", test_render);
	CU_add_test(s, "SDL window on the dummy driver", test_sdl_dummy);
}
