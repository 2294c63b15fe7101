/* smartcar-sim — placeholder until the simulator lands. */
#include <stdio.h>

int main(void)
{
    fprintf(stderr, "smartcar-sim: not built yet\n");
    return 2;
}
