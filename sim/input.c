/* Record and replay of external input. */
#include "sim/input.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

static const char *const kind_name[INPUT_NKINDS] = { "serial", "key" };

static void wake_fire(void *opaque, struct dev_timer *t)
{
	(void)opaque, (void)t;  /* only ends the round; input_deliver does the work */
}

static int input_fail(char *err, size_t errlen, const char *path, unsigned line, const char *what)
{
	if (line)
		snprintf(err, errlen, "%s:%u: %s", path, line, what);
	else
		snprintf(err, errlen, "%s: %s", path, what);
	return -1;
}

static int parse_event(const char *s, struct input_event *e)
{
	char kind[16];
	uint64_t cycle;
	unsigned byte;
	int n = 0;

	if (sscanf(s, "%" SCNu64 " %15s %x%n", &cycle, kind, &byte, &n) != 3 || byte > 0xff)
		return -1;
	while (s[n] == ' ' || s[n] == '\t' || s[n] == '\r' || s[n] == '\n')
		n++;
	if (s[n])
		return -1;
	for (int k = 0; k < INPUT_NKINDS; k++)
		if (!strcmp(kind, kind_name[k])) {
			*e = (struct input_event){ cycle, (uint8_t)k, (uint8_t)byte };
			return 0;
		}
	return -1;
}

static int load_replay(struct input *in, const char *path, char *err, size_t errlen)
{
	FILE *f = fopen(path, "r");
	char line[256];
	unsigned lineno = 0;
	size_t cap = 0;

	if (!f)
		return input_fail(err, errlen, path, 0, strerror(errno));
	in->replay_end = UINT64_MAX;
	while (fgets(line, sizeof(line), f)) {
		lineno++;
		if (lineno == 1) {
			if (strcmp(line, "vtxsim-input 1\n")) {
				fclose(f);
				return input_fail(err, errlen, path, 1, "not a vtxsim input record (first line must be \"vtxsim-input 1\")");
			}
			continue;
		}
		if (line[0] == '#' || line[0] == '\n')
			continue;
		uint64_t end;
		char tail;
		if (sscanf(line, "end %" SCNu64 " %c", &end, &tail) == 1) {
			in->replay_end = end;
			continue;
		}
		struct input_event e;
		if (parse_event(line, &e) || (in->nreplay && e.cycle < in->replay[in->nreplay - 1].cycle)) {
			fclose(f);
			return input_fail(err, errlen, path, lineno,
					  "expected \"<cycle> serial|key <hex byte>\" with cycles in order");
		}
		if (in->nreplay == cap) {
			cap = cap ? 2 * cap : 256;
			struct input_event *v = realloc(in->replay, cap * sizeof(*v));
			if (!v) {
				fclose(f);
				return input_fail(err, errlen, path, lineno, "out of host memory");
			}
			in->replay = v;
		}
		in->replay[in->nreplay++] = e;
	}
	fclose(f);
	if (!lineno)
		return input_fail(err, errlen, path, 0, "empty file; not a vtxsim input record");
	if (!in->replay)
		in->replay = calloc(1, sizeof(*in->replay));  /* replaying nothing is still replaying */
	return in->replay ? 0 : input_fail(err, errlen, path, 0, "out of host memory");
}

/* Arm the wake timer for the next replayed event. */
static void arm_next(struct input *in)
{
	if (in->next < in->nreplay)
		clock_arm(in->clock, &in->wake, in->replay[in->next].cycle);
}

int input_init(struct input *in, struct clock *ck, const char *record_path, const char *replay_path,
	       char *err, size_t errlen)
{
	memset(in, 0, sizeof(*in));
	in->clock = ck;
	dev_timer_init(&in->wake, "input", wake_fire, in);
	if (replay_path && load_replay(in, replay_path, err, errlen))
		return -1;
	if (record_path) {
		in->record = fopen(record_path, "w");
		if (!in->record)
			return input_fail(err, errlen, record_path, 0, strerror(errno));
		fputs("vtxsim-input 1\n", in->record);
	}
	if (in->replay)
		arm_next(in);
	return 0;
}

void input_destroy(struct input *in)
{
	clock_disarm(in->clock, &in->wake);
	if (in->record)
		fclose(in->record);
	free(in->replay);
	in->record = NULL;
	in->replay = NULL;
}

bool input_push(struct input *in, enum input_kind kind, uint8_t byte)
{
	if (in->replay)
		return true;
	if (in->qcount == INPUT_QUEUE)
		return false;
	in->queue[(in->qhead + in->qcount++) % INPUT_QUEUE] = (struct input_event){ 0, (uint8_t)kind, byte };
	return true;
}

static bool deliver_one(struct input *in, const struct input_event *e, uint64_t now)
{
	const struct input_sink *s = &in->sink[e->kind];
	if (!s->take || (s->can_take && !s->can_take(s->opaque)))
		return false;
	s->take(s->opaque, e->byte);
	if (in->record)
		fprintf(in->record, "%" PRIu64 " %s %02x\n", now, kind_name[e->kind], e->byte);
	return true;
}

int input_deliver(struct input *in, uint64_t now)
{
	int n = 0;
	if (in->replay) {
		/* A recorded byte was delivered because its device had room; the
		 * replayed run is identical up to here, so it has room again. */
		while (in->next < in->nreplay && in->replay[in->next].cycle <= now) {
			const struct input_event *e = &in->replay[in->next++];
			const struct input_sink *s = &in->sink[e->kind];
			if (s->take)
				s->take(s->opaque, e->byte);
			if (in->record)
				fprintf(in->record, "%" PRIu64 " %s %02x\n", now, kind_name[e->kind], e->byte);
			n++;
		}
		if (!dev_timer_armed(&in->wake))
			arm_next(in);
		return n;
	}
	while (in->qcount && deliver_one(in, &in->queue[in->qhead], now)) {
		in->qhead = (in->qhead + 1) % INPUT_QUEUE;
		in->qcount--;
		n++;
	}
	if (n && in->record)
		fflush(in->record);
	return n;
}

void input_finish(struct input *in, uint64_t now)
{
	if (in->record) {
		fprintf(in->record, "end %" PRIu64 "\n", now);
		fflush(in->record);
	}
}
