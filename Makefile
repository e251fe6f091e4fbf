# kpipe - a Kafka-protocol event streaming platform as a C library and Unix tools.
#
#   make                 build lib (static + shared) and the programs into $(BUILD)
#   make check           ASan/UBSan build + clang build + fuzz build, then the whole test suite (tests/run)
#   make fuzz            the libFuzzer targets tests/fuzz/*.c (clang, ASan/UBSan) into build-fuzz/fuzz
#   make run             install deps, build, start a single-node kbroker
#   make SANITIZE=1 ...  the same with AddressSanitizer and UBSan (own build dir)
#   make deps            install the Debian packages the build and tests need (idempotent)
#   make gen             regenerate the protocol codec (messages, coordinator and KRaft metadata
#                        records) from ../shared/kafka-protocol
#   make bench           run tests/bench
#   make install PREFIX=/usr/local DESTDIR=

PREFIX  ?= /usr/local
BINDIR  ?= $(PREFIX)/bin
LIBDIR  ?= $(PREFIX)/lib
INCDIR  ?= $(PREFIX)/include/kpipe
MANDIR  ?= $(PREFIX)/share/man
CC      ?= cc
PKG_CONFIG ?= pkg-config
PYTHON  ?= python3
VERSION := 0.1.0
JOBS    ?= $(shell nproc 2>/dev/null || echo 2)

PKGS := libevent libevent_openssl openssl jansson zlib libzstd liblz4 libxxhash snappy libsasl2 libisal

ifeq ($(SANITIZE),1)
BUILD   ?= build-asan
SANFLAGS := -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer
OPT     ?= -O1 -g
else
BUILD   ?= build
SANFLAGS :=
OPT     ?= -O2 -g
endif

WARN    := -Wall -Wextra -Werror -Wshadow -Wno-unused-parameter
CFLAGS  ?=
ALL_CFLAGS  := -std=c11 -D_GNU_SOURCE -DKP_VERSION='"$(VERSION)"' -fPIC $(OPT) $(WARN) $(SANFLAGS) -Ilib \
	$(shell $(PKG_CONFIG) --cflags $(PKGS) 2>/dev/null) $(CFLAGS)
LDLIBS  := $(shell $(PKG_CONFIG) --libs $(PKGS) 2>/dev/null) -lm -lpthread
ALL_LDFLAGS := $(SANFLAGS) $(LDFLAGS)

LIB_SRC  := $(sort $(wildcard lib/*/*.c))
LIB_OBJ  := $(LIB_SRC:%.c=$(BUILD)/%.o)
CMD_SRC  := $(sort $(wildcard cmd/*.c))
CMD_COMMON := $(filter cmd/common_%.c,$(CMD_SRC))
# cmd/PROG.c is a program; cmd/PROG_PART.c are more of PROG's own files, linked into it.
CMD_PARTS := $(filter-out $(CMD_COMMON),$(foreach f,$(CMD_SRC),$(if $(findstring _,$(notdir $(f))),$(f))))
CMD_MAIN := $(filter-out $(CMD_COMMON) $(CMD_PARTS),$(CMD_SRC))
CMD_COMMON_OBJ := $(CMD_COMMON:%.c=$(BUILD)/%.o)
cmd_parts_obj = $(patsubst cmd/%.c,$(BUILD)/cmd/%.o,$(filter cmd/$(1)_%.c,$(CMD_PARTS)))
# kept between builds (make would delete them as intermediate files of the programs)
.SECONDARY: $(CMD_SRC:%.c=$(BUILD)/%.o)
PROGRAMS := $(patsubst cmd/%.c,$(BUILD)/bin/%,$(CMD_MAIN))
UNIT_SRC := $(sort $(wildcard tests/unit/test_*.c))
UNIT_BIN := $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(UNIT_SRC))
TOOL_SRC := $(sort $(wildcard tests/tools/*.c))
TOOL_BIN := $(patsubst tests/tools/%.c,$(BUILD)/tests/tools/%,$(TOOL_SRC))
FUZZ_SRC := $(sort $(wildcard tests/fuzz/*.c))
FUZZ_BIN := $(patsubst tests/fuzz/%.c,$(BUILD)/fuzz/%,$(FUZZ_SRC))
FUZZ_SANFLAGS := -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=undefined \
	-fno-omit-frame-pointer
STATIC   := $(BUILD)/libkpipe.a
SHARED   := $(BUILD)/libkpipe.so

.PHONY: all check fuzz fuzz-bin run unit deps gen bench install clean
all: $(STATIC) $(SHARED) $(PROGRAMS) $(UNIT_BIN) $(TOOL_BIN)

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -MMD -MP -c $< -o $@

$(STATIC): $(LIB_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(SHARED): $(LIB_OBJ)
	$(CC) -shared -Wl,-soname,libkpipe.so.0 $(ALL_LDFLAGS) -o $@ $^ $(LDLIBS)

# Programs link the static library so they run from the build tree as they are.
.SECONDEXPANSION:
$(BUILD)/bin/%: $(BUILD)/cmd/%.o $$(call cmd_parts_obj,$$*) $(CMD_COMMON_OBJ) $(STATIC)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_LDFLAGS) -o $@ $< $(call cmd_parts_obj,$*) $(CMD_COMMON_OBJ) $(STATIC) $(LDLIBS)

$(BUILD)/tests/%: $(BUILD)/tests/unit/%.o $(STATIC)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_LDFLAGS) -o $@ $< $(STATIC) $(LDLIBS) -lcmocka

# Helper programs the integration tests drive (not installed).
$(BUILD)/tests/tools/%: $(BUILD)/tests/tools/%.o $(STATIC)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_LDFLAGS) -o $@ $< $(STATIC) $(LDLIBS)

# libFuzzer targets (tests/test_fuzz.py runs them): the library instrumented
# for coverage with ASan/UBSan, linked with libFuzzer's main, in build-fuzz.
$(BUILD)/fuzz/%: $(BUILD)/tests/fuzz/%.o $(STATIC)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_LDFLAGS) -fsanitize=fuzzer,address,undefined -o $@ $< $(STATIC) $(LDLIBS)

fuzz:
	$(MAKE) CC=clang BUILD=build-fuzz OPT="-O1 -g" SANFLAGS="$(FUZZ_SANFLAGS)" fuzz-bin

fuzz-bin: $(FUZZ_BIN)

# The test suite runs once, on the AddressSanitizer/UBSan build; clang must
# also compile everything warning-free; tests/test_fuzz.py runs the fuzz build.
check:
	$(MAKE) -j$(JOBS) SANITIZE=1 all
	$(MAKE) -j$(JOBS) CC=clang BUILD=build-clang all
	$(MAKE) -j$(JOBS) fuzz
	KP_BUILD=$(abspath build-asan) KP_FUZZ_BUILD=$(abspath build-fuzz) tests/run

run: deps all
	$(BUILD)/bin/kbroker

unit: all
	@set -e; for t in $(UNIT_BIN); do echo "== $$t"; $$t; done

deps:
	sh share/install-deps.sh

gen:
	$(PYTHON) lib/protocol/gen/kpgen.py ../shared/kafka-protocol/messages lib/protocol
	$(PYTHON) lib/protocol/gen/kpgen.py ../shared/kafka-protocol/coordinator lib/protocol coordinator_gen
	$(PYTHON) lib/protocol/gen/kpgen.py ../shared/kafka-protocol/metadata lib/protocol metadata_gen

bench: all
	KP_BUILD=$(abspath $(BUILD)) tests/bench/run

install: all
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(LIBDIR)/pkgconfig $(DESTDIR)$(INCDIR) $(DESTDIR)$(MANDIR)/man1 \
		$(DESTDIR)$(MANDIR)/man5
	install -m 755 $(PROGRAMS) $(DESTDIR)$(BINDIR)/
	install -m 644 $(STATIC) $(DESTDIR)$(LIBDIR)/
	install -m 755 $(SHARED) $(DESTDIR)$(LIBDIR)/libkpipe.so.$(VERSION)
	ln -sf libkpipe.so.$(VERSION) $(DESTDIR)$(LIBDIR)/libkpipe.so.0
	ln -sf libkpipe.so.0 $(DESTDIR)$(LIBDIR)/libkpipe.so
	for d in util protocol record log client broker net group metadata raft controller; do \
		install -d $(DESTDIR)$(INCDIR)/$$d; \
		for h in lib/$$d/*.h; do [ -f "$$h" ] && install -m 644 $$h $(DESTDIR)$(INCDIR)/$$d/; done; \
	done; true
	sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@LIBDIR@|$(LIBDIR)|' -e 's|@INCDIR@|$(INCDIR)|' \
		-e 's|@VERSION@|$(VERSION)|' share/kpipe.pc.in > $(DESTDIR)$(LIBDIR)/pkgconfig/kpipe.pc
	for m in man/*.1; do [ -f "$$m" ] && install -m 644 $$m $(DESTDIR)$(MANDIR)/man1/; done; true
	for m in man/*.5; do [ -f "$$m" ] && install -m 644 $$m $(DESTDIR)$(MANDIR)/man5/; done; true

clean:
	rm -rf build build-asan build-clang build-*/

-include $(LIB_OBJ:.o=.d) $(CMD_SRC:%.c=$(BUILD)/%.d) $(UNIT_SRC:%.c=$(BUILD)/%.d) $(TOOL_SRC:%.c=$(BUILD)/%.d) \
	$(FUZZ_SRC:%.c=$(BUILD)/%.d)
