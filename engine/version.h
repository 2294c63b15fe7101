/* The program version and the model-file format version it reads/writes. */
#ifndef VERSION_H
#define VERSION_H

#define SVCSCORE_VERSION "0.1.0"
#define SVCSCORE_MODEL_FORMAT 1

#endif
