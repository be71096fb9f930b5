/* placeholder: the CLI is being written (cli helper replaces this file) */
#include <stdio.h>
int main(void) { return 0; }
