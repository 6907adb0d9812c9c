/*
 * table.c - the rows of a text table: cells padded to their columns'
 * widths by display width, one space between them, the last column as it
 * is. The tables of list-certs (the token's certificates, the CA's records)
 * print their headers and their rows through it; their JSON objects take
 * their string fields from one list of keys and one of values.
 */
#include "gmrenew/cli.h"

/* A right-aligned cell of a row holds a number: it is padded, never cut
 * (a cut number would say something false); a title is cut to fit. */
static void print_right(FILE *f, const char *s, size_t width, int title)
{
	size_t w = gm_display_width(s);

	if (title) {
		gm_print_cell_right(f, s, width);
		return;
	}
	for (; w < width; w++)
		fputc(' ', f);
	gm_fputs(s, f);
}

static void print_cells(FILE *f, const gm_column *cols, size_t n,
			const char *const *cells, int titles)
{
	size_t i;

	for (i = 0; i < n; i++) {
		const char *s = cells[i] ? cells[i] : "-";

		if (i)
			fputc(' ', f);
		if (!cols[i].width)
			gm_fputs(s, f);
		else if (cols[i].right)
			print_right(f, s, cols[i].width, titles);
		else
			gm_print_cell(f, s, cols[i].width);
	}
	fputc('\n', f);
}

void gm_print_titles(FILE *f, const gm_column *cols, size_t n,
		     const char *const *titles)
{
	print_cells(f, cols, n, titles, 1);
}

void gm_print_row(FILE *f, const gm_column *cols, size_t n,
		  const char *const *cells)
{
	print_cells(f, cols, n, cells, 0);
}

void gm_json_add_strs(cJSON *o, const char *const *keys,
		      const char *const *values, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		gm_json_add_str(o, keys[i], values[i]);
}
