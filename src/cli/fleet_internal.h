/*
 * fleet_internal.h - what the CLI files for unattended use share: the
 * Prometheus metrics file, the outcome of a run (JSON contract, event log,
 * hooks, exit code mapping) and the batch renewal with --wait.
 */
#ifndef GMRENEW_FLEET_INTERNAL_H
#define GMRENEW_FLEET_INTERNAL_H

#include "gmrenew/cli.h"

/* ---- metrics.c ---- */

/* Writes the node_exporter textfile metrics of the token open in cli and of
 * its certificates to path, atomically (a hidden temporary file in the same
 * directory, renamed over path). */
int gm_metrics_write(gm_cli *cli, const gm_cert_list *list, const char *path,
		     gm_error *err);

/* The state directory of the configuration; caller frees. */
char *gm_cli_state_dir(const gm_cli *cli);

/* ---- outcome.c ---- */

/* The end of a command's run: records it; returns the exit code. */
int gm_cli_finish(gm_cli *cli, int code);

#endif
