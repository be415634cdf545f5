/* SDL2 window for the VGA text screen, PC console fonts, and the host
 * keyboard as PS/2 scan-code set 2.
 *
 * References: the PSF 1 and PSF 2 font formats as documented with kbd
 * ("font-formats", and OSDev wiki "PC Screen Font"); scan-code set 2 from
 * the OSDev wiki "PS/2 Keyboard" tables and mdfs.net "PS/2 Scan Codes Set 2",
 * keyed by USB HID keyboard usages as Microsoft's "Keyboard Scan Code
 * Specification" pairs them (SDL scancodes are those usages); cursor and
 * character blink rates from FreeVGA "Manipulating the Text-mode Cursor"
 * (cursor every 16 frames) and the Attribute Mode Control blink bit
 * (characters every 32 frames).
 */
#include "sim/display.h"

#include <SDL.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

/* ---- PSF fonts ---- */

#define PSF1_MAGIC 0x0436       /* bytes 36 04 */
#define PSF1_MODE512 0x01
#define PSF1_MODEHASTAB 0x02
#define PSF1_MODEHASSEQ 0x04
#define PSF1_SEPARATOR 0xffff
#define PSF1_STARTSEQ 0xfffe
#define PSF2_MAGIC 0x864ab572u  /* bytes 72 b5 4a 86 */
#define PSF2_HAS_UNICODE_TABLE 0x01
#define PSF2_SEPARATOR 0xff
#define PSF2_STARTSEQ 0xfe
#define PSF_FILE_MAX (4u << 20)

/* One parsed font: glyph bitmaps (8 dots wide) and Unicode -> glyph pairs. */
struct psf {
	uint8_t *data;
	size_t size;
	const uint8_t *glyphs;
	unsigned nglyphs, height, charsize;
	uint32_t *uni;
	uint16_t *uni_glyph;
	size_t nuni, cap;
};

static void psf_free(struct psf *p)
{
	free(p->data);
	free(p->uni);
	free(p->uni_glyph);
	memset(p, 0, sizeof(*p));
}

/* gzread reads plain files too. */
static int psf_read_file(struct psf *p, const char *path)
{
	gzFile gz = gzopen(path, "rb");
	if (!gz)
		return -1;
	p->data = malloc(PSF_FILE_MAX);
	int n = p->data ? gzread(gz, p->data, PSF_FILE_MAX) : -1;
	gzclose(gz);
	if (n < 0)
		return -1;
	p->size = (size_t)n;
	return 0;
}

static uint32_t le32(const uint8_t *b)
{
	return (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
}

static int psf_add_uni(struct psf *p, uint32_t cp, unsigned glyph)
{
	if (p->nuni == p->cap) {
		size_t cap = p->cap ? p->cap * 2 : 512;
		uint32_t *u = realloc(p->uni, cap * sizeof(*u));
		if (u)
			p->uni = u;
		uint16_t *g = realloc(p->uni_glyph, cap * sizeof(*g));
		if (g)
			p->uni_glyph = g;
		if (!u || !g)
			return -1;
		p->cap = cap;
	}
	p->uni[p->nuni] = cp;
	p->uni_glyph[p->nuni++] = (uint16_t)glyph;
	return 0;
}

/* PSF 1 table: per glyph, 16-bit code points, then sequences after
 * 0xFFFE (skipped: a sequence is not one character), ended by 0xFFFF. */
static int psf1_table(struct psf *p, const uint8_t *t, const uint8_t *end)
{
	for (unsigned g = 0; g < p->nglyphs; g++) {
		bool seq = false;
		for (;;) {
			if (t + 2 > end)
				return -1;
			unsigned u = t[0] | t[1] << 8;
			t += 2;
			if (u == PSF1_SEPARATOR)
				break;
			if (u == PSF1_STARTSEQ)
				seq = true;
			else if (!seq && psf_add_uni(p, u, g))
				return -1;
		}
	}
	return 0;
}

/* Decode one UTF-8 character; returns its length, 0 when malformed. */
static int utf8_decode(const uint8_t *s, const uint8_t *end, uint32_t *cp)
{
	int len = s[0] < 0x80 ? 1 : s[0] < 0xe0 ? 2 : s[0] < 0xf0 ? 3 : 4;
	if (s + len > end || (s[0] >= 0x80 && s[0] < 0xc0))
		return 0;
	static const uint8_t lead_mask[5] = { 0, 0x7f, 0x1f, 0x0f, 0x07 };
	uint32_t c = s[0] & lead_mask[len];
	for (int i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		c = c << 6 | (s[i] & 0x3f);
	}
	*cp = c;
	return len;
}

/* PSF 2 table: per glyph, UTF-8 characters, then sequences after 0xFE,
 * ended by 0xFF. */
static int psf2_table(struct psf *p, const uint8_t *t, const uint8_t *end)
{
	for (unsigned g = 0; g < p->nglyphs; g++) {
		bool seq = false;
		for (;;) {
			if (t >= end)
				return -1;
			if (*t == PSF2_SEPARATOR) {
				t++;
				break;
			}
			if (*t == PSF2_STARTSEQ) {
				seq = true;
				t++;
				continue;
			}
			uint32_t cp;
			int len = utf8_decode(t, end, &cp);
			if (!len || (!seq && psf_add_uni(p, cp, g)))
				return -1;
			t += len;
		}
	}
	return 0;
}

static int psf_parse(struct psf *p)
{
	const uint8_t *d = p->data, *end = p->data + p->size;
	if (p->size >= 4 && (d[0] | d[1] << 8) == PSF1_MAGIC) {
		p->nglyphs = (d[2] & PSF1_MODE512) ? 512 : 256;
		p->height = p->charsize = d[3];
		p->glyphs = d + 4;
		const uint8_t *t = p->glyphs + (size_t)p->nglyphs * p->charsize;
		if (t > end || !(d[2] & (PSF1_MODEHASTAB | PSF1_MODEHASSEQ)))
			return -1;
		return psf1_table(p, t, end);
	}
	if (p->size < 32 || le32(d) != PSF2_MAGIC)
		return -1;
	uint32_t hsize = le32(d + 8), flags = le32(d + 12), n = le32(d + 16), csize = le32(d + 20);
	uint32_t h = le32(d + 24), w = le32(d + 28);
	if (w != 8 || csize != h || n > 65536 || hsize > p->size ||
	    (uint64_t)n * csize > p->size - hsize || !(flags & PSF2_HAS_UNICODE_TABLE))
		return -1;
	p->nglyphs = n;
	p->height = h;
	p->charsize = csize;
	p->glyphs = d + hsize;
	return psf2_table(p, p->glyphs + (size_t)n * csize, end);
}

static int psf_find(const struct psf *p, uint32_t cp)
{
	for (size_t i = 0; i < p->nuni; i++)
		if (p->uni[i] == cp)
			return p->uni_glyph[i];
	return -1;
}

/* Same shapes under other code points (Unicode "black right/left-pointing
 * pointer" vs "triangle"), for fonts that only have the latter. */
static uint32_t cp_alternate(uint32_t cp)
{
	switch (cp) {
	case 0x25ba: return 0x25b6;
	case 0x25c4: return 0x25c0;
	}
	return 0;
}

static bool font_copy_glyph(struct display_font *f, uint8_t c, const struct psf *fonts, int n, uint32_t cp)
{
	for (int i = 0; i < n; i++) {
		int g = psf_find(&fonts[i], cp);
		if (g >= 0) {
			memcpy(f->glyph[c], fonts[i].glyphs + (size_t)g * fonts[i].charsize, fonts[i].height);
			return true;
		}
	}
	return false;
}

static void font_build(struct display_font *f, const struct psf *fonts, int n)
{
	memset(f, 0, sizeof(*f));
	f->height = (int)fonts[0].height;
	for (unsigned c = 1; c < 256; c++) {
		uint32_t cp = vga_cp437_unicode((uint8_t)c);
		if (font_copy_glyph(f, (uint8_t)c, fonts, n, cp))
			continue;
		if (cp_alternate(cp) && font_copy_glyph(f, (uint8_t)c, fonts, n, cp_alternate(cp)))
			continue;
		f->missing++;
		font_copy_glyph(f, (uint8_t)c, fonts, n, '?');
	}
}

#define DISPLAY_MAX_FONTS 4

int display_font_load(struct display_font *f, const char *const paths[], int npaths, char *err,
		      size_t errlen)
{
	struct psf fonts[DISPLAY_MAX_FONTS] = { 0 };
	int rc = -1, i;
	if (npaths < 1 || npaths > DISPLAY_MAX_FONTS) {
		snprintf(err, errlen, "display: give 1 to %d font files", DISPLAY_MAX_FONTS);
		return -1;
	}
	for (i = 0; i < npaths; i++) {
		if (psf_read_file(&fonts[i], paths[i])) {
			snprintf(err, errlen, "display: cannot read font %s; install it with: sudo apt-get "
				 "install %s", paths[i], DISPLAY_FONT_PACKAGE);
			goto out;
		}
		if (psf_parse(&fonts[i]) || fonts[i].height == 0 || fonts[i].height > DISPLAY_GLYPH_MAX_H ||
		    fonts[i].height != fonts[0].height) {
			snprintf(err, errlen, "display: %s is not an 8-dot PSF font with a Unicode table "
				 "and the height of %s", paths[i], paths[0]);
			goto out;
		}
	}
	font_build(f, fonts, npaths);
	rc = 0;
out:
	for (i = 0; i < npaths; i++)
		psf_free(&fonts[i]);
	return rc;
}

/* ---- rendering ---- */

struct cell_colors {
	uint32_t fg, bg;
};

/* Attribute byte: bits 3-0 foreground, 6-4 background, 7 blink or bright
 * background (Attribute Mode Control bit 3). Blinking characters show
 * their background in the off phase. */
static struct cell_colors cell_colors(const uint32_t pal[16], uint8_t attr, bool blink, bool text_on)
{
	unsigned fg = attr & 0x0f, bg = attr >> 4;
	if (blink) {
		bg &= 7;
		if ((attr & 0x80) && !text_on)
			fg = bg;
	}
	return (struct cell_colors){ pal[fg], pal[bg] };
}

struct render_ctx {
	const struct display_font *f;
	uint32_t *pixels;
	int pitch, cw;
	bool lge;
};

/* The ninth dot repeats the eighth for line-drawing codes 0xC0-0xDF when
 * line graphics is on, else it is background (Attribute Mode Control
 * bit 2). */
static void draw_cell(const struct render_ctx *r, int row, int col, uint8_t ch, struct cell_colors c,
		      int cur_start, int cur_end)
{
	int h = r->f->height;
	bool dup9 = r->lge && ch >= 0xc0 && ch <= 0xdf;
	for (int y = 0; y < h; y++) {
		uint32_t *p = r->pixels + (size_t)(row * h + y) * (size_t)r->pitch + (size_t)(col * r->cw);
		unsigned bits = r->f->glyph[ch][y];
		if (y >= cur_start && y <= cur_end)
			bits = 0x1ff;
		else
			bits = bits << 1 | (dup9 ? bits & 1 : 0);
		for (int x = 0; x < r->cw; x++)
			p[x] = (bits >> (8 - x)) & 1 ? c.fg : c.bg;
	}
}

void display_render_text(const struct vga *v, const struct display_font *f, unsigned frame,
			 uint32_t *pixels, int pitch, int *w, int *h)
{
	struct render_ctx r = { f, pixels, pitch, vga_nine_dot(v) ? 9 : 8, vga_line_graphics(v) };
	*w = VGA_COLS * r.cw;
	*h = VGA_ROWS * f->height;
	if (!vga_video_enabled(v) || !vga_text_mode(v)) {
		for (int y = 0; y < *h; y++)
			memset(pixels + (size_t)y * (size_t)pitch, 0, (size_t)*w * sizeof(*pixels));
		return;
	}
	uint16_t cells[VGA_ROWS * VGA_COLS];
	uint32_t pal[16];
	vga_text_screen(v, cells);
	for (unsigned i = 0; i < 16; i++)
		pal[i] = vga_color_rgb(v, i);
	int crow, ccol, cstart, cend;
	bool cvis;
	vga_cursor(v, &crow, &ccol, &cvis);
	vga_cursor_shape(v, &cstart, &cend);
	cvis = cvis && !(frame & 16);
	bool blink = vga_blink_enabled(v), text_on = !(frame & 32);
	for (int row = 0; row < VGA_ROWS; row++) {
		for (int col = 0; col < VGA_COLS; col++) {
			uint16_t c = cells[row * VGA_COLS + col];
			bool cur = cvis && row == crow && col == ccol;
			draw_cell(&r, row, col, (uint8_t)c, cell_colors(pal, (uint8_t)(c >> 8), blink, text_on),
				  cur ? cstart : -1, cur ? cend : -2);
		}
	}
}

/* ---- scan-code set 2 ---- */

struct set2_key {
	uint8_t code;
	bool e0;
};

/* Set 2 make codes by SDL scancode (= USB HID keyboard usage). */
static const struct set2_key set2_map[SDL_NUM_SCANCODES] = {
	[SDL_SCANCODE_A] = { 0x1c, 0 }, [SDL_SCANCODE_B] = { 0x32, 0 }, [SDL_SCANCODE_C] = { 0x21, 0 },
	[SDL_SCANCODE_D] = { 0x23, 0 }, [SDL_SCANCODE_E] = { 0x24, 0 }, [SDL_SCANCODE_F] = { 0x2b, 0 },
	[SDL_SCANCODE_G] = { 0x34, 0 }, [SDL_SCANCODE_H] = { 0x33, 0 }, [SDL_SCANCODE_I] = { 0x43, 0 },
	[SDL_SCANCODE_J] = { 0x3b, 0 }, [SDL_SCANCODE_K] = { 0x42, 0 }, [SDL_SCANCODE_L] = { 0x4b, 0 },
	[SDL_SCANCODE_M] = { 0x3a, 0 }, [SDL_SCANCODE_N] = { 0x31, 0 }, [SDL_SCANCODE_O] = { 0x44, 0 },
	[SDL_SCANCODE_P] = { 0x4d, 0 }, [SDL_SCANCODE_Q] = { 0x15, 0 }, [SDL_SCANCODE_R] = { 0x2d, 0 },
	[SDL_SCANCODE_S] = { 0x1b, 0 }, [SDL_SCANCODE_T] = { 0x2c, 0 }, [SDL_SCANCODE_U] = { 0x3c, 0 },
	[SDL_SCANCODE_V] = { 0x2a, 0 }, [SDL_SCANCODE_W] = { 0x1d, 0 }, [SDL_SCANCODE_X] = { 0x22, 0 },
	[SDL_SCANCODE_Y] = { 0x35, 0 }, [SDL_SCANCODE_Z] = { 0x1a, 0 },
	[SDL_SCANCODE_1] = { 0x16, 0 }, [SDL_SCANCODE_2] = { 0x1e, 0 }, [SDL_SCANCODE_3] = { 0x26, 0 },
	[SDL_SCANCODE_4] = { 0x25, 0 }, [SDL_SCANCODE_5] = { 0x2e, 0 }, [SDL_SCANCODE_6] = { 0x36, 0 },
	[SDL_SCANCODE_7] = { 0x3d, 0 }, [SDL_SCANCODE_8] = { 0x3e, 0 }, [SDL_SCANCODE_9] = { 0x46, 0 },
	[SDL_SCANCODE_0] = { 0x45, 0 },
	[SDL_SCANCODE_RETURN] = { 0x5a, 0 }, [SDL_SCANCODE_ESCAPE] = { 0x76, 0 },
	[SDL_SCANCODE_BACKSPACE] = { 0x66, 0 }, [SDL_SCANCODE_TAB] = { 0x0d, 0 },
	[SDL_SCANCODE_SPACE] = { 0x29, 0 }, [SDL_SCANCODE_MINUS] = { 0x4e, 0 },
	[SDL_SCANCODE_EQUALS] = { 0x55, 0 }, [SDL_SCANCODE_LEFTBRACKET] = { 0x54, 0 },
	[SDL_SCANCODE_RIGHTBRACKET] = { 0x5b, 0 }, [SDL_SCANCODE_BACKSLASH] = { 0x5d, 0 },
	[SDL_SCANCODE_NONUSHASH] = { 0x5d, 0 }, [SDL_SCANCODE_SEMICOLON] = { 0x4c, 0 },
	[SDL_SCANCODE_APOSTROPHE] = { 0x52, 0 }, [SDL_SCANCODE_GRAVE] = { 0x0e, 0 },
	[SDL_SCANCODE_COMMA] = { 0x41, 0 }, [SDL_SCANCODE_PERIOD] = { 0x49, 0 },
	[SDL_SCANCODE_SLASH] = { 0x4a, 0 }, [SDL_SCANCODE_CAPSLOCK] = { 0x58, 0 },
	[SDL_SCANCODE_F1] = { 0x05, 0 }, [SDL_SCANCODE_F2] = { 0x06, 0 }, [SDL_SCANCODE_F3] = { 0x04, 0 },
	[SDL_SCANCODE_F4] = { 0x0c, 0 }, [SDL_SCANCODE_F5] = { 0x03, 0 }, [SDL_SCANCODE_F6] = { 0x0b, 0 },
	[SDL_SCANCODE_F7] = { 0x83, 0 }, [SDL_SCANCODE_F8] = { 0x0a, 0 }, [SDL_SCANCODE_F9] = { 0x01, 0 },
	[SDL_SCANCODE_F10] = { 0x09, 0 }, [SDL_SCANCODE_F11] = { 0x78, 0 }, [SDL_SCANCODE_F12] = { 0x07, 0 },
	[SDL_SCANCODE_SCROLLLOCK] = { 0x7e, 0 },
	[SDL_SCANCODE_INSERT] = { 0x70, 1 }, [SDL_SCANCODE_HOME] = { 0x6c, 1 },
	[SDL_SCANCODE_PAGEUP] = { 0x7d, 1 }, [SDL_SCANCODE_DELETE] = { 0x71, 1 },
	[SDL_SCANCODE_END] = { 0x69, 1 }, [SDL_SCANCODE_PAGEDOWN] = { 0x7a, 1 },
	[SDL_SCANCODE_RIGHT] = { 0x74, 1 }, [SDL_SCANCODE_LEFT] = { 0x6b, 1 },
	[SDL_SCANCODE_DOWN] = { 0x72, 1 }, [SDL_SCANCODE_UP] = { 0x75, 1 },
	[SDL_SCANCODE_NUMLOCKCLEAR] = { 0x77, 0 }, [SDL_SCANCODE_KP_DIVIDE] = { 0x4a, 1 },
	[SDL_SCANCODE_KP_MULTIPLY] = { 0x7c, 0 }, [SDL_SCANCODE_KP_MINUS] = { 0x7b, 0 },
	[SDL_SCANCODE_KP_PLUS] = { 0x79, 0 }, [SDL_SCANCODE_KP_ENTER] = { 0x5a, 1 },
	[SDL_SCANCODE_KP_1] = { 0x69, 0 }, [SDL_SCANCODE_KP_2] = { 0x72, 0 }, [SDL_SCANCODE_KP_3] = { 0x7a, 0 },
	[SDL_SCANCODE_KP_4] = { 0x6b, 0 }, [SDL_SCANCODE_KP_5] = { 0x73, 0 }, [SDL_SCANCODE_KP_6] = { 0x74, 0 },
	[SDL_SCANCODE_KP_7] = { 0x6c, 0 }, [SDL_SCANCODE_KP_8] = { 0x75, 0 }, [SDL_SCANCODE_KP_9] = { 0x7d, 0 },
	[SDL_SCANCODE_KP_0] = { 0x70, 0 }, [SDL_SCANCODE_KP_PERIOD] = { 0x71, 0 },
	[SDL_SCANCODE_NONUSBACKSLASH] = { 0x61, 0 }, [SDL_SCANCODE_APPLICATION] = { 0x2f, 1 },
	[SDL_SCANCODE_POWER] = { 0x37, 1 },
	[SDL_SCANCODE_INTERNATIONAL1] = { 0x51, 0 }, [SDL_SCANCODE_INTERNATIONAL2] = { 0x13, 0 },
	[SDL_SCANCODE_INTERNATIONAL3] = { 0x6a, 0 }, [SDL_SCANCODE_INTERNATIONAL4] = { 0x64, 0 },
	[SDL_SCANCODE_INTERNATIONAL5] = { 0x67, 0 },
	[SDL_SCANCODE_LCTRL] = { 0x14, 0 }, [SDL_SCANCODE_LSHIFT] = { 0x12, 0 },
	[SDL_SCANCODE_LALT] = { 0x11, 0 }, [SDL_SCANCODE_LGUI] = { 0x1f, 1 },
	[SDL_SCANCODE_RCTRL] = { 0x14, 1 }, [SDL_SCANCODE_RSHIFT] = { 0x59, 0 },
	[SDL_SCANCODE_RALT] = { 0x11, 1 }, [SDL_SCANCODE_RGUI] = { 0x27, 1 },
};

/* Print Screen is a fake shift plus a key; Pause sends E1 sequences on
 * press and nothing on release. */
static const uint8_t prtsc_make[] = { 0xe0, 0x12, 0xe0, 0x7c };
static const uint8_t prtsc_break[] = { 0xe0, 0xf0, 0x7c, 0xe0, 0xf0, 0x12 };
static const uint8_t pause_make[] = { 0xe1, 0x14, 0x77, 0xe1, 0xf0, 0x14, 0xf0, 0x77 };

static int copy_seq(uint8_t out[DISPLAY_SET2_MAX], const uint8_t *seq, size_t n)
{
	memcpy(out, seq, n);
	return (int)n;
}

int display_set2_bytes(int sdl_scancode, bool pressed, uint8_t out[DISPLAY_SET2_MAX])
{
	if (sdl_scancode == SDL_SCANCODE_PRINTSCREEN)
		return pressed ? copy_seq(out, prtsc_make, sizeof(prtsc_make))
			       : copy_seq(out, prtsc_break, sizeof(prtsc_break));
	if (sdl_scancode == SDL_SCANCODE_PAUSE)
		return pressed ? copy_seq(out, pause_make, sizeof(pause_make)) : 0;
	if (sdl_scancode <= 0 || sdl_scancode >= SDL_NUM_SCANCODES || !set2_map[sdl_scancode].code)
		return 0;
	const struct set2_key *k = &set2_map[sdl_scancode];
	int n = 0;
	if (k->e0)
		out[n++] = 0xe0;
	if (!pressed)
		out[n++] = 0xf0;
	out[n++] = k->code;
	return n;
}

/* ---- the window ---- */

struct display {
	struct vga *v;
	display_key_fn key;
	void *ctx;
	SDL_Window *win;
	SDL_Renderer *ren;
	SDL_Texture *tex;
	int tex_w, tex_h;
	bool quit;
	struct display_font font;
	uint32_t pixels[DISPLAY_MAX_W * DISPLAY_MAX_H];
};

static struct display *display_fail(struct display *d, char *err, size_t errlen, const char *what)
{
	snprintf(err, errlen, "display: %s failed: %s", what, SDL_GetError());
	display_close(d);
	return NULL;
}

struct display *display_open(struct vga *v, display_key_fn key, void *ctx, char *err, size_t errlen)
{
	static const char *const fonts[] = { DISPLAY_FONT_PRIMARY, DISPLAY_FONT_FALLBACK };
	struct display *d = calloc(1, sizeof(*d));
	if (!d) {
		snprintf(err, errlen, "display: out of memory");
		return NULL;
	}
	if (display_font_load(&d->font, fonts, 2, err, errlen)) {
		free(d);
		return NULL;
	}
	d->v = v;
	d->key = key;
	d->ctx = ctx;
	if (SDL_InitSubSystem(SDL_INIT_VIDEO) != 0) {
		snprintf(err, errlen, "display: SDL video init failed: %s (no display? use -display none)",
			 SDL_GetError());
		free(d);
		return NULL;
	}
	d->win = SDL_CreateWindow("vtxsim", SDL_WINDOWPOS_UNDEFINED, SDL_WINDOWPOS_UNDEFINED, DISPLAY_MAX_W,
				  VGA_ROWS * d->font.height, SDL_WINDOW_RESIZABLE);
	if (!d->win)
		return display_fail(d, err, errlen, "SDL_CreateWindow");
	d->ren = SDL_CreateRenderer(d->win, -1, 0);
	if (!d->ren)
		return display_fail(d, err, errlen, "SDL_CreateRenderer");
	return d;
}

static void handle_key(struct display *d, const SDL_KeyboardEvent *k)
{
	uint8_t bytes[DISPLAY_SET2_MAX];
	int n = display_set2_bytes(k->keysym.scancode, k->type == SDL_KEYDOWN, bytes);
	for (int i = 0; i < n; i++)
		if (d->key)
			d->key(d->ctx, bytes[i]);
}

static void poll_events(struct display *d)
{
	SDL_Event e;
	while (SDL_PollEvent(&e)) {
		if (e.type == SDL_QUIT)
			d->quit = true;
		else if (e.type == SDL_KEYDOWN || e.type == SDL_KEYUP)
			handle_key(d, &e.key);
	}
}

/* The texture follows the image size (8- or 9-dot cells); the renderer
 * scales it to the window. */
static bool ensure_texture(struct display *d, int w, int h)
{
	if (d->tex && d->tex_w == w && d->tex_h == h)
		return true;
	if (d->tex)
		SDL_DestroyTexture(d->tex);
	d->tex = SDL_CreateTexture(d->ren, SDL_PIXELFORMAT_XRGB8888, SDL_TEXTUREACCESS_STREAMING, w, h);
	d->tex_w = w;
	d->tex_h = h;
	if (d->tex)
		SDL_RenderSetLogicalSize(d->ren, w, h);
	return d->tex != NULL;
}

void display_refresh(struct display *d)
{
	int w, h;
	poll_events(d);
	/* Blink clock: 70 frames per host second, like mode 3's refresh. */
	unsigned frame = (unsigned)((uint64_t)SDL_GetTicks() * 70 / 1000);
	display_render_text(d->v, &d->font, frame, d->pixels, DISPLAY_MAX_W, &w, &h);
	if (!ensure_texture(d, w, h))
		return;
	SDL_UpdateTexture(d->tex, NULL, d->pixels, DISPLAY_MAX_W * (int)sizeof(uint32_t));
	SDL_RenderClear(d->ren);
	SDL_RenderCopy(d->ren, d->tex, NULL, NULL);
	SDL_RenderPresent(d->ren);
}

bool display_quit_requested(const struct display *d)
{
	return d->quit;
}

void display_close(struct display *d)
{
	if (!d)
		return;
	if (d->tex)
		SDL_DestroyTexture(d->tex);
	if (d->ren)
		SDL_DestroyRenderer(d->ren);
	if (d->win)
		SDL_DestroyWindow(d->win);
	SDL_QuitSubSystem(SDL_INIT_VIDEO);
	free(d);
}
