# svcscore — one non-recursive Makefile.
#
#   make            build bin/svcscore and bin/smartcar-sim
#   make test       unit tests, the same tests under ASan+UBSan, end-to-end tests
#   make demo       the main job on the bundled sample fleet
#   make bench      benchmark scripts (print figures)
#   make install    PREFIX=/usr/local DESTDIR=
#   make clean
#
# WERROR= drops -Werror for newer compilers; V=1 shows the commands.

CC      ?= cc
CSTD    = -std=c11
WERROR  ?= -Werror
WARN    = -Wall -Wextra $(WERROR) -Wshadow -Wstrict-prototypes \
          -Wmissing-prototypes -Wold-style-definition -Wwrite-strings \
          -Wformat=2 -Wpointer-arith -Wvla -Wundef
OPT     ?= -O2 -g
CPPFLAGS += -D_POSIX_C_SOURCE=200809L -Iengine
PREFIX  ?= /usr/local
DESTDIR ?=

PKGS     = libcurl libcjson gsl
DEPS_OK := $(shell pkg-config --exists $(PKGS) cunit libmicrohttpd \
             && test -f /usr/include/csv.h && echo yes)

ifeq ($(V),1)
Q =
else
Q = @
endif

PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null)
CSV_LIBS   := $(shell pkg-config --libs libcsv 2>/dev/null || echo -lcsv)
CUNIT_LIBS := $(shell pkg-config --libs cunit 2>/dev/null)
MHD_CFLAGS := $(shell pkg-config --cflags libmicrohttpd 2>/dev/null)
MHD_LIBS   := $(shell pkg-config --libs libmicrohttpd 2>/dev/null)
ZLIB_LIBS  := $(shell pkg-config --libs zlib 2>/dev/null || echo -lz)
LIBS       = $(PKG_LIBS) $(CSV_LIBS) -lpthread -lm

CFLAGS_ALL = $(CSTD) $(WARN) $(OPT) $(PKG_CFLAGS) $(MHD_CFLAGS) $(CFLAGS)
SANFLAGS   = -fsanitize=address,undefined -fno-sanitize-recover=all \
             -fno-omit-frame-pointer -O1 -g

# The engine's modules and the API client form one archive; the commands
# (engine/cmd/, the only code that prints) link against it.  The simulator's
# pure modules form a small archive of their own that the unit tests link.
LIB_SRCS  := $(wildcard engine/*.c engine/api/*.c)
CMD_SRCS  := $(filter-out engine/cmd/main.c,$(wildcard engine/cmd/*.c))
SIMLIB_SRCS := $(addprefix engine/sim/,sim_window.c sim_fault.c sim_rate.c \
               sim_jscan.c)
SIM_SRCS  := $(filter-out $(SIMLIB_SRCS),$(wildcard engine/sim/*.c))
TEST_SRCS := $(wildcard tests/*.c)
BENCH_SRCS := $(wildcard tests/bench/*.c)

LIB_OBJS  := $(LIB_SRCS:%.c=build/%.o)
CMD_OBJS  := $(CMD_SRCS:%.c=build/%.o)
SIMLIB_OBJS := $(SIMLIB_SRCS:%.c=build/%.o)
SIM_OBJS  := $(SIM_SRCS:%.c=build/%.o)
TEST_OBJS := $(TEST_SRCS:%.c=build/%.o)
BENCH_OBJS := $(BENCH_SRCS:%.c=build/%.o)
SAN_LIB   := $(LIB_SRCS:%.c=build/san/%.o) $(SIMLIB_SRCS:%.c=build/san/%.o)
SAN_TEST  := $(TEST_SRCS:%.c=build/san/%.o)

ALL_OBJS  := build/engine/cmd/main.o $(LIB_OBJS) $(CMD_OBJS) \
             $(SIMLIB_OBJS) $(SIM_OBJS) $(TEST_OBJS) \
             $(BENCH_OBJS) $(SAN_LIB) $(SAN_TEST)

.PHONY: all test unit unit-san e2e demo bench model install clean deps \
        check-deps
.DEFAULT_GOAL := all

all: check-deps bin/svcscore bin/smartcar-sim

# A fresh machine: test and demo install what is missing first.
deps:
	$(Q)scripts/install-deps.sh

check-deps:
ifneq ($(DEPS_OK),yes)
	$(error missing libraries (libcurl, libcjson, gsl, libcsv, cunit, libmicrohttpd): run scripts/install-deps.sh or 'make deps')
endif

build/libsvcscore.a: $(LIB_OBJS)
	$(Q)mkdir -p $(@D)
	$(Q)rm -f $@
	$(Q)ar rcs $@ $^

build/libcmd.a: $(CMD_OBJS)
	$(Q)mkdir -p $(@D)
	$(Q)rm -f $@
	$(Q)ar rcs $@ $^

build/libsim.a: $(SIMLIB_OBJS)
	$(Q)mkdir -p $(@D)
	$(Q)rm -f $@
	$(Q)ar rcs $@ $^

bin/svcscore: build/engine/cmd/main.o build/libcmd.a build/libsvcscore.a
	$(Q)mkdir -p $(@D)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(CFLAGS_ALL) -o $@ $^ $(LIBS) $(LDFLAGS)

bin/smartcar-sim: $(SIM_OBJS) build/libsim.a build/libcmd.a build/libsvcscore.a
	$(Q)mkdir -p $(@D)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(CFLAGS_ALL) -o $@ $^ $(MHD_LIBS) $(ZLIB_LIBS) $(LIBS) $(LDFLAGS)

bin/run_tests: $(TEST_OBJS) build/libsim.a build/libsvcscore.a
	$(Q)mkdir -p $(@D)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(CFLAGS_ALL) -o $@ $^ $(CUNIT_LIBS) $(LIBS) $(LDFLAGS)

# Benchmark programs (not unit tests): the parse-only baseline and the GLM.
bin/bench-parse: build/tests/bench/bench_parse.o
	$(Q)mkdir -p $(@D)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(CFLAGS_ALL) -o $@ $^ $(LIBS) $(LDFLAGS)

bin/bench-glm: build/tests/bench/bench_glm.o build/libsvcscore.a
	$(Q)mkdir -p $(@D)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(CFLAGS_ALL) -o $@ $^ $(LIBS) $(LDFLAGS)

bin/run_tests_san: $(SAN_TEST) $(SAN_LIB)
	$(Q)mkdir -p $(@D)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(CFLAGS_ALL) $(SANFLAGS) -o $@ $^ $(CUNIT_LIBS) $(LIBS) $(LDFLAGS)

build/%.o: %.c
	$(Q)mkdir -p $(@D)
	@$(if $(Q),echo "  CC      $<")
	$(Q)$(CC) $(CPPFLAGS) $(CFLAGS_ALL) -MMD -MP -c -o $@ $<

build/san/%.o: %.c
	$(Q)mkdir -p $(@D)
	@$(if $(Q),echo "  CC san  $<")
	$(Q)$(CC) $(CPPFLAGS) $(CFLAGS_ALL) $(SANFLAGS) -MMD -MP -c -o $@ $<

-include $(ALL_OBJS:.o=.d)

# The test target installs missing libraries itself (fresh machine), then
# re-enters make so the pkg-config flags are read with the libraries present.
test:
	$(Q)scripts/install-deps.sh --if-missing
	$(Q)$(MAKE) --no-print-directory unit unit-san e2e

unit: check-deps bin/run_tests bin/smartcar-sim
	$(Q)cd tests && ../bin/run_tests

unit-san: check-deps bin/run_tests_san bin/smartcar-sim
	$(Q)cd tests && ASAN_OPTIONS=detect_leaks=1 \
	  UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
	  LSAN_OPTIONS=suppressions=lsan.supp ../bin/run_tests_san

e2e: all
	$(Q)tests/e2e.sh
	$(Q)tests/e2e_cases.sh

demo:
	$(Q)scripts/install-deps.sh --if-missing
	$(Q)$(MAKE) --no-print-directory all
	$(Q)scripts/demo.sh

bench:
	$(Q)scripts/install-deps.sh --if-missing --bench
	$(Q)$(MAKE) --no-print-directory all bin/bench-parse
	$(Q)scripts/bench.sh

model: all
	$(Q)scripts/make-model.sh

install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/svcscore/models \
	    $(DESTDIR)$(PREFIX)/share/svcscore/data
	install -m 755 bin/svcscore bin/smartcar-sim $(DESTDIR)$(PREFIX)/bin/
	install -m 644 models/*.json $(DESTDIR)$(PREFIX)/share/svcscore/models/
	install -m 644 data/*.tsv $(DESTDIR)$(PREFIX)/share/svcscore/data/

clean:
	rm -rf build bin
