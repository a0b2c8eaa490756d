/* SPDX-License-Identifier: MIT
 * A QEMU TCG plugin that counts the guest instructions a program executes, on all its
 * threads, and writes the total to a file at exit: the "instructions per second of audio"
 * of bench/arm64_budget.sh, counted on the arm64 binary under Debian's qemu-user.
 *
 *   gcc -shared -fPIC -O2 -o qemu_insn.so bench/qemu_insn.c
 *   qemu-aarch64 -plugin ./qemu_insn.so,out=COUNT ./crymeter analyze night.flac
 *
 * Debian ships QEMU with plugin support but not its plugin header, so the few declarations
 * used are written here from QEMU's public plugin API (include/qemu/qemu-plugin.h, API
 * version 1, QEMU 4.2 to 8.x; QEMU checks qemu_plugin_version at load and refuses a
 * mismatch, so a future incompatible QEMU fails loudly rather than counting wrong).
 *
 * Each translated block adds its instruction count when it executes, to the total and to its
 * thread's counter (in qemu-user every guest thread is a vCPU of its own): the output is the
 * total on the first line, then "vcpu N COUNT" for each thread that ran, so that a script
 * can tell the busiest thread (the floor of the wall time on many cores) from the sum. The
 * adds are atomic: the tool's threads run at the same time, and the API's inline add is
 * documented as not thread-safe. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef uint64_t qemu_plugin_id_t;
typedef struct qemu_info_t qemu_info_t;
struct qemu_plugin_tb;
enum qemu_plugin_cb_flags { QEMU_PLUGIN_CB_NO_REGS, QEMU_PLUGIN_CB_R_REGS, QEMU_PLUGIN_CB_RW_REGS };
typedef void (*qemu_plugin_vcpu_tb_trans_cb_t)(qemu_plugin_id_t id, struct qemu_plugin_tb *tb);
typedef void (*qemu_plugin_vcpu_udata_cb_t)(unsigned int vcpu_index, void *userdata);
typedef void (*qemu_plugin_udata_cb_t)(qemu_plugin_id_t id, void *userdata);

void qemu_plugin_register_vcpu_tb_trans_cb(qemu_plugin_id_t id, qemu_plugin_vcpu_tb_trans_cb_t cb);
void qemu_plugin_register_vcpu_tb_exec_cb(struct qemu_plugin_tb *tb, qemu_plugin_vcpu_udata_cb_t cb,
                                          enum qemu_plugin_cb_flags flags, void *userdata);
size_t qemu_plugin_tb_n_insns(const struct qemu_plugin_tb *tb);
void qemu_plugin_register_atexit_cb(qemu_plugin_id_t id, qemu_plugin_udata_cb_t cb, void *userdata);

__attribute__((visibility("default"))) int qemu_plugin_version = 1;

#define MAX_VCPUS 1024 /* thread indices past this are counted in the total only */
static uint64_t total, per_vcpu[MAX_VCPUS];
static char out_path[4096];

static void on_exec(unsigned int vcpu_index, void *n_insns)
{
    const uint64_t n = (uint64_t)(uintptr_t)n_insns;
    __atomic_fetch_add(&total, n, __ATOMIC_RELAXED);
    if (vcpu_index < MAX_VCPUS) __atomic_fetch_add(&per_vcpu[vcpu_index], n, __ATOMIC_RELAXED);
}

static void on_translate(qemu_plugin_id_t id, struct qemu_plugin_tb *tb)
{
    (void)id;
    qemu_plugin_register_vcpu_tb_exec_cb(tb, on_exec, QEMU_PLUGIN_CB_NO_REGS,
                                         (void *)(uintptr_t)qemu_plugin_tb_n_insns(tb));
}

static void write_total(qemu_plugin_id_t id, void *p)
{
    (void)id;
    (void)p;
    FILE *f = fopen(out_path, "w");
    int bad = !f || fprintf(f, "%llu\n", (unsigned long long)__atomic_load_n(&total, __ATOMIC_RELAXED)) < 0;
    for (unsigned i = 0; f && !bad && i < MAX_VCPUS; i++) {
        const uint64_t n = __atomic_load_n(&per_vcpu[i], __ATOMIC_RELAXED);
        if (n) bad = fprintf(f, "vcpu %u %llu\n", i, (unsigned long long)n) < 0;
    }
    if (f && fclose(f) != 0) bad = 1;
    if (bad) fprintf(stderr, "qemu_insn: cannot write %s\n", out_path);
}

__attribute__((visibility("default"))) int qemu_plugin_install(qemu_plugin_id_t id, const qemu_info_t *info,
                                                               int argc, char **argv)
{
    (void)info;
    for (int i = 0; i < argc; i++)
        if (strncmp(argv[i], "out=", 4) == 0 && strlen(argv[i] + 4) < sizeof out_path)
            strcpy(out_path, argv[i] + 4);
    if (!out_path[0]) {
        fprintf(stderr, "qemu_insn: give the output file: -plugin qemu_insn.so,out=FILE\n");
        return -1;
    }
    qemu_plugin_register_vcpu_tb_trans_cb(id, on_translate);
    qemu_plugin_register_atexit_cb(id, write_total, NULL);
    return 0;
}
