/*
 * cmd_list_certs.c - `gmrenew list-certs`: the certificates on the token
 * with their validity and renewal window. Exit 0 when the list was read,
 * whatever state the certificates are in.
 */
#include "gmrenew/cli.h"

static int print_json(gm_cli *cli, const gm_cert_list *list)
{
	cJSON *doc = cJSON_CreateObject();
	cJSON *arr;
	size_t i;

	cJSON_AddItemToObject(doc, "token", gm_token_json(&cli->token));
	arr = cJSON_AddArrayToObject(doc, "certificates");
	for (i = 0; i < list->n; i++)
		cJSON_AddItemToArray(arr, gm_cert_view_json(&list->views[i]));
	gm_cli_print_json(doc);
	return GM_EXIT_OK;
}

int cmd_list_certs(gm_cli *cli, int argc, char **argv)
{
	const gm_option opts[] = {
		{ NULL, 0, 0, NULL, NULL, NULL },
	};
	gm_cert_list list;
	gm_error err;
	int pos, r;

	r = gm_cli_parse(cli, opts, argc, argv, &pos);
	if (r)
		return r > 0 ? GM_EXIT_OK : GM_EXIT_USAGE;
	if (pos < argc) {
		fprintf(stderr, "gmrenew list-certs: unexpected argument '%s'\n",
			argv[pos]);
		return GM_EXIT_USAGE;
	}
	if (gm_cli_setup(cli, cli->command->flags, &err) ||
	    gm_cert_list_load(cli, &list, &err))
		return gm_cli_report_error(cli, &err);
	if (cli->json)
		r = print_json(cli, &list);
	else {
		gm_cert_list_print(cli, &list, stdout);
		r = GM_EXIT_OK;
	}
	gm_cert_list_release(&list);
	return r;
}
