/* SPDX-License-Identifier: MIT */
/* crymeter_example: the smallest program on the installed libcrymeter. Reads raw
 * interleaved signed 16-bit little-endian PCM from standard input and prints one JSON line
 * per episode as it ends, then a summary line, with the field names of `crymeter analyze
 * -f jsonl`. Uses only <crymeter.h>; build with
 *
 *     cc crymeter_example.c $(pkg-config --cflags --libs crymeter) -o crymeter_example
 *     sox night.flac -t raw -e signed -b 16 -L - | ./crymeter_example 16000 1
 *
 * (sox's -r and -c pick the rate and channels; pass the same numbers here). */
#include <crymeter.h>

#include <stdio.h>
#include <stdlib.h>

static void print_episode(void *user, crymeter_record_kind kind, const crymeter_episode *ep)
{
    (void)user;
    if (kind != CRYMETER_RECORD_END) return; /* START and EXCESSIVE: for live alerts */
    printf("{\"type\":\"episode\",\"id\":%llu,\"class\":\"%s\",\"start_s\":%.3f,"
           "\"end_s\":%.3f,\"duration_s\":%.3f,\"spl_db_max\":%.2f,\"excessive\":%s}\n",
           (unsigned long long)ep->id, crymeter_class_name(ep->cls), ep->start_s, ep->end_s,
           ep->duration_s, ep->spl_db_max, ep->excessive ? "true" : "false");
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: %s RATE_HZ CHANNELS < audio.s16le   (libcrymeter %s)\n",
                argv[0], crymeter_version());
        return 2;
    }
    crymeter_config cfg;
    crymeter_config_init(&cfg, (unsigned)strtoul(argv[1], NULL, 10),
                         (unsigned)strtoul(argv[2], NULL, 10));
    cfg.on_episode = print_episode;
    crymeter_analyzer *a = NULL;
    char msg[256];
    crymeter_status st = crymeter_create(&cfg, &a, msg, sizeof msg);
    if (st != CRYMETER_OK) {
        fprintf(stderr, "crymeter_example: %s\n", msg);
        return 2;
    }
    enum { BLOCK = 4096 };
    static int16_t buf[BLOCK];
    const size_t frame_bytes = sizeof(int16_t) * cfg.channels;
    size_t n;
    /* The tail of a short read that is not a whole frame is carried to the next read. */
    size_t have = 0;
    while ((n = fread((char *)buf + have, 1, sizeof buf - have, stdin)) > 0) {
        have += n;
        size_t frames = have / frame_bytes;
        if ((st = crymeter_push_s16(a, buf, frames)) != CRYMETER_OK) break;
        size_t rest = have - frames * frame_bytes;
        for (size_t i = 0; i < rest; i++) ((char *)buf)[i] = ((char *)buf)[frames * frame_bytes + i];
        have = rest;
    }
    if (st == CRYMETER_OK) st = crymeter_finish(a);
    if (st != CRYMETER_OK) {
        fprintf(stderr, "crymeter_example: %s\n", crymeter_status_str(st));
        crymeter_destroy(a);
        return 1;
    }
    crymeter_summary s;
    (void)crymeter_get_summary(a, &s);
    printf("{\"type\":\"summary\",\"duration_s\":%.3f,\"episodes\":%u,\"lufs_integrated\":%.2f}\n",
           s.duration_s, s.episodes, s.lufs_integrated);
    crymeter_destroy(a);
    return ferror(stdin) ? 1 : 0;
}
