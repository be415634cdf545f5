/* A small printf: %d %i %u %x %X %p %s %c %%, the l / ll / z length
 * modifiers, the '-', '0' and '#' flags and a field width. Output goes to a
 * sink: COM1 for printf, a buffer for snprintf. */
#include "guest.h"

struct sink {
	bool serial;                    /* write to COM1, else to buf */
	char *buf;
	size_t size, len;               /* len counts every character produced */
};

struct spec {
	bool left, zero, alt;
	unsigned width;
	int longs;                      /* number of 'l' (or 'z') modifiers */
};

static void sink_put(struct sink *s, char c)
{
	if (s->serial)
		serial_putc(c);
	else if (s->len + 1 < s->size)
		s->buf[s->len] = c;
	s->len++;
}

static void put_padded(struct sink *s, const struct spec *sp, const char *prefix,
		       const char *body, size_t n)
{
	size_t plen = strlen(prefix), total = plen + n;
	size_t pad = sp->width > total ? sp->width - total : 0;

	if (!sp->left && !sp->zero)
		for (; pad; pad--)
			sink_put(s, ' ');
	while (*prefix)
		sink_put(s, *prefix++);
	if (!sp->left)
		for (; pad; pad--)
			sink_put(s, '0');
	while (n--)
		sink_put(s, *body++);
	for (; pad; pad--)
		sink_put(s, ' ');
}

static void put_number(struct sink *s, const struct spec *sp, uint64_t v, unsigned base,
		       bool upper, const char *prefix)
{
	const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
	char tmp[24];
	size_t n = sizeof(tmp);

	do {
		tmp[--n] = digits[v % base];
		v /= base;
	} while (v);
	put_padded(s, sp, prefix, tmp + n, sizeof(tmp) - n);
}

static uint64_t fetch_unsigned(const struct spec *sp, va_list *ap)
{
	return sp->longs ? va_arg(*ap, unsigned long) : va_arg(*ap, unsigned int);
}

static int64_t fetch_signed(const struct spec *sp, va_list *ap)
{
	return sp->longs ? va_arg(*ap, long) : va_arg(*ap, int);
}

static void convert(struct sink *s, const struct spec *sp, char conv, va_list *ap)
{
	switch (conv) {
	case 'd':
	case 'i': {
		int64_t v = fetch_signed(sp, ap);
		put_number(s, sp, v < 0 ? -(uint64_t)v : (uint64_t)v, 10, false, v < 0 ? "-" : "");
		break;
	}
	case 'u':
		put_number(s, sp, fetch_unsigned(sp, ap), 10, false, "");
		break;
	case 'x':
	case 'X': {
		uint64_t v = fetch_unsigned(sp, ap);
		put_number(s, sp, v, 16, conv == 'X', sp->alt && v ? "0x" : "");
		break;
	}
	case 'p':
		put_number(s, sp, (uint64_t)va_arg(*ap, void *), 16, false, "0x");
		break;
	case 's': {
		const char *str = va_arg(*ap, const char *);
		if (!str)
			str = "(null)";
		put_padded(s, sp, "", str, strlen(str));
		break;
	}
	case 'c': {
		char c = (char)va_arg(*ap, int);
		put_padded(s, sp, "", &c, 1);
		break;
	}
	default:                        /* %% and unknown conversions */
		sink_put(s, conv);
		break;
	}
}

static const char *parse_spec(const char *f, struct spec *sp)
{
	*sp = (struct spec){ 0 };
	for (;; f++) {
		if (*f == '-')
			sp->left = true;
		else if (*f == '0')
			sp->zero = true;
		else if (*f == '#')
			sp->alt = true;
		else
			break;
	}
	for (; *f >= '0' && *f <= '9'; f++)
		sp->width = sp->width * 10 + (unsigned)(*f - '0');
	for (; *f == 'l' || *f == 'z'; f++)
		sp->longs++;
	return f;
}

static void format(struct sink *s, const char *fmt, va_list ap)
{
	va_list aq;

	va_copy(aq, ap);
	while (*fmt) {
		if (*fmt != '%') {
			sink_put(s, *fmt++);
			continue;
		}
		struct spec sp;
		fmt = parse_spec(fmt + 1, &sp);
		if (!*fmt)
			break;
		convert(s, &sp, *fmt++, &aq);
	}
	va_end(aq);
}

int vprintf(const char *fmt, va_list ap)
{
	struct sink s = { .serial = true };

	format(&s, fmt, ap);
	return (int)s.len;
}

int printf(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	int n = vprintf(fmt, ap);
	va_end(ap);
	return n;
}

int vsnprintf(char *buf, size_t size, const char *fmt, va_list ap)
{
	struct sink s = { .buf = buf, .size = size };

	format(&s, fmt, ap);
	if (size)
		buf[s.len < size ? s.len : size - 1] = 0;
	return (int)s.len;
}

int snprintf(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	int n = vsnprintf(buf, size, fmt, ap);
	va_end(ap);
	return n;
}
