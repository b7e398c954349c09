// Headers come from Debian's librdkafka-dev (2.0.2); the library loaded at run
// time is the >= 2.1 build that scripts/setup.sh installs into .deps/lib.
// The C ABI only grows, so the older headers are a safe subset.
#include <librdkafka/rdkafka.h>
