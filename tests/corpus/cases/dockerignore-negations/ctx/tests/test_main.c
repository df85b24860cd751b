#include "../src/main.c"
int test_main(void) { return 0; }
