/* SPDX-License-Identifier: MIT */
/* crymeter devices: lists audio input devices (index, default mark, name, host API, default
 * rate, input channels) so a user can pick one for `crymeter monitor --device`. ALSA and
 * JACK print their probing chatter on stderr while PortAudio enumerates; cli_audio_init
 * hides it unless CRYMETER_AUDIO_DEBUG is set, because it is noise on a machine without
 * JACK and looks like an error. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "crymeter/capture.h"

int cli_audio_init(void);

/* Initialises the audio system with stderr muted (see above). 0 ok, -1 after a message. */
int cli_audio_init(void)
{
    int saved = -1;
    if (!getenv("CRYMETER_AUDIO_DEBUG")) {
        fflush(stderr);
        saved = dup(STDERR_FILENO);
        int devnull = open("/dev/null", O_WRONLY);
        if (saved >= 0 && devnull >= 0) dup2(devnull, STDERR_FILENO);
        if (devnull >= 0) close(devnull);
    }
    cm_diag why = {{0}};
    cm_status st = cm_capture_system_init(&why);
    if (saved >= 0) {
        fflush(stderr);
        dup2(saved, STDERR_FILENO);
        close(saved);
    }
    if (st != CM_OK) {
        cli_err("%s", why.msg);
        return -1;
    }
    return 0;
}

static const char devices_usage[] =
    "Usage: crymeter devices\n"
    "\n"
    "Lists audio input devices. Give the index, or part of the name, to\n"
    "'crymeter monitor --device'. '*' marks the system's default input.\n"
    "Set CRYMETER_AUDIO_DEBUG=1 to see the audio system's own diagnostics.\n";

int cmd_devices(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            fputs(devices_usage, stdout);
            return CM_EXIT_OK;
        }
        cli_err("devices: unexpected argument '%s'", argv[i]);
        fputs("Try 'crymeter devices --help'.\n", stderr);
        return CM_EXIT_USAGE;
    }
    if (cli_audio_init() != 0) return CM_EXIT_FAIL;
    size_t n = 0;
    cm_capture_device *devs = NULL;
    if (cm_capture_list(NULL, 0, &n) == CM_OK && n > 0) {
        devs = calloc(n, sizeof *devs);
        if (!devs || cm_capture_list(devs, n, &n) != CM_OK) {
            cli_err("devices: out of memory");
            free(devs);
            cm_capture_system_done();
            return CM_EXIT_FAIL;
        }
    }
    if (n == 0) {
        cm_capture_system_done();
        cli_err("no audio input devices found");
        return CM_EXIT_FAIL;
    }
    printf("%5s  %-40s  %-8s  %8s  %8s\n", "index", "name", "host", "rate_hz", "channels");
    for (size_t i = 0; i < n; i++) {
        const char *api = devs[i].host_api;
        /* Short host names keep the table narrow; the full one is only wordier. */
        if (strstr(api, "JACK")) api = "JACK";
        printf("%4d%c  %-40s  %-8s  %8.0f  %8u\n", devs[i].index, devs[i].is_default ? '*' : ' ',
               devs[i].name, api, devs[i].default_rate_hz, devs[i].max_input_channels);
    }
    free(devs);
    cm_capture_system_done();
    return CM_EXIT_OK;
}
