/* probe.c - includes PROBE_HEADER only: built by tests/layers/CMakeLists.txt
 * with the include path of one layer, to see whether that layer can see the
 * header. */
#include PROBE_HEADER

int gm_layer_probe(void);

int gm_layer_probe(void)
{
	return 0;
}
