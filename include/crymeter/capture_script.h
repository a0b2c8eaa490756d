/* SPDX-License-Identifier: MIT */
/* Runtime. A capture source driven by a script: the test seam below cm_capture
 * (capture_source.h). A real device's faults (stalls, a driver that never returns, host
 * errors, a device unplugged, overflows, NaN from a float driver) are hard to cause on demand
 * and their timing belongs to the scheduler; here each is one line of a script, so a test
 * gets it by construction on a busy machine as on an idle one. The source has no clock: it
 * delivers as fast as the ring accepts (never dropping unless told to) and its clock, which
 * stall detection reads, is the audio it has delivered, so the same script gives the same
 * frames to the analyzer whatever the load.
 *
 * Script: one command per line; blank lines and text after '#' are ignored.
 *   name TEXT          the device's name (default "script")
 *   rate HZ            its default rate (default 16000)
 *   channels N         the most channels it accepts, 1..64 (default 2)
 *   audio PATH [S]     deliver a sound file (any libsndfile format) at the stream's rate
 *                      and channel count, the first S seconds or all of it
 *   tone HZ S [DBFS]   deliver a sine of S seconds (default -20 dBFS), on every channel
 *   silence S          deliver S seconds of digital silence
 *   nan S              deliver S seconds of NaN samples (a float driver gone wrong)
 *   overflow           the device reports input lost before it reached us (once)
 *   burst S            deliver S seconds of silence at once, without waiting for room:
 *                      what does not fit the ring is dropped (an analysis that fell behind)
 *   wait PATH          deliver nothing until PATH exists; the clock stops meanwhile (the
 *                      test decides when the device goes on)
 *   mark PATH          create the empty file PATH (tells the test the device got here)
 *   pause              deliver nothing more; the clock stops (a quiet but healthy device:
 *                      the test decides when to stop)
 *   stall              deliver nothing more; the clock runs on, 20 times faster than
 *                      real time, so stall detection fires (a device gone quiet)
 *   hang               as stall, and stopping never returns (a driver stuck in a read)
 *   error TEXT         the stream fails with TEXT (a host error)
 *   vanish             the device is gone (unplugged)
 *   end                the stream ends by itself (also what follows the last line) */
#ifndef CRYMETER_CAPTURE_SCRIPT_H
#define CRYMETER_CAPTURE_SCRIPT_H

#include "crymeter/capture_source.h"
#include "crymeter/status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Parses a script held in text (what names it in messages: `origin`, e.g. a path).
 * CM_E_FORMAT with why naming origin:line for an unknown command or a bad value. Sound
 * files are opened and checked (rate, channels) when the capture opens the source. */
CM_NODISCARD cm_status cm_capture_script_parse(const char *text, const char *origin,
                                               cm_capture_source **out, cm_diag *why);
/* The same from a file. CM_E_IO when it cannot be read. */
CM_NODISCARD cm_status cm_capture_script_load(const char *path, cm_capture_source **out,
                                              cm_diag *why);

#ifdef __cplusplus
}
#endif
#endif
