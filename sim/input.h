/* External input on simulated time: serial bytes and keyboard scan codes
 * reach the guest only between scheduler rounds, each stamped with the
 * simulated cycle at which it was delivered, so a run can be recorded
 * (--record FILE) and replayed bit for bit (--replay FILE).
 *
 * Live input (stdin for -serial stdio, the SDL window's keys) is queued on
 * the host side and delivered at the end of the next round, a byte at a
 * time while the receiving device has room. A replay delivers each recorded
 * byte at the end of the round that ends at its cycle: a timer at that cycle
 * makes a round end there, which it also did in the recorded run.
 *
 * The file is text, one event per line:
 *     vtxsim-input 1
 *     <cycle> serial <hex byte>
 *     <cycle> key <hex byte>
 *     end <cycle>
 * "end" (written at exit) is the simulated time at which the recorded run
 * ended; a replay that ends at another time says so (the runs diverged).
 */
#ifndef SIM_INPUT_H
#define SIM_INPUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "devices/device.h"

enum input_kind { INPUT_SERIAL, INPUT_KEY, INPUT_NKINDS };

struct input_event {
	uint64_t cycle;
	uint8_t kind;           /* enum input_kind */
	uint8_t byte;
};

/* Where input goes: can_take says whether the device has room now. */
struct input_sink {
	bool (*can_take)(void *opaque);
	void (*take)(void *opaque, uint8_t byte);
	void *opaque;
};

#define INPUT_QUEUE 4096

struct input {
	struct input_sink sink[INPUT_NKINDS];
	struct clock *clock;
	FILE *record;                   /* --record, or NULL */
	struct input_event *replay;     /* --replay events, or NULL */
	size_t nreplay, next;
	uint64_t replay_end;            /* UINT64_MAX when the file has no end line */
	struct dev_timer wake;          /* makes a round end at the next replayed event */
	/* Live bytes waiting for their device (ring). */
	struct input_event queue[INPUT_QUEUE];
	size_t qhead, qcount;
};

/* 0, or -1 with a message (a file that cannot be opened or parsed). */
int input_init(struct input *in, struct clock *ck, const char *record_path, const char *replay_path,
	       char *err, size_t errlen);
void input_destroy(struct input *in);

static inline bool input_replaying(const struct input *in)
{
	return in->replay != NULL;
}

/* Queue a live byte (ignored while replaying: the file decides). False
 * when the host-side queue is full. */
bool input_push(struct input *in, enum input_kind kind, uint8_t byte);

/* Between rounds, at time now: deliver what is due. Returns the number of
 * bytes delivered. */
int input_deliver(struct input *in, uint64_t now);

/* True when live bytes wait for room in their device. */
static inline bool input_pending(const struct input *in)
{
	return in->qcount != 0;
}

/* Write the end line (the run ended at `now`). */
void input_finish(struct input *in, uint64_t now);

#endif
