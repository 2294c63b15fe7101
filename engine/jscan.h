/*
 * jscan — a strict JSON pull scanner that allocates nothing.
 *
 * The hot path of svcscore reads hundreds of megabytes of service histories,
 * of which it keeps a few fields per record.  Building a cJSON tree for each
 * history costs an allocation per value; this scanner walks the text in
 * place instead, and the caller copies out only what it needs.  It accepts
 * exactly RFC 8259 JSON (no NaN, no comments, no trailing commas, no control
 * characters in strings), nests at most JS_MAX_DEPTH containers deep, and
 * remembers the first error with its byte offset: after an error every call
 * fails.  It is the one JSON scanner of the tree: histories and bundle
 * lines (hist), the bodies fetch checks and the simulator's fleet file go
 * through it; cJSON stays the library for small documents handled whole
 * (model files, the token store, API error envelopes, JSON reports).
 *
 * Usage: js_init(), then js_peek() the next value's type and consume it with
 * the matching call: js_string(), js_number(), js_literal(), js_skip(), or
 * js_object_begin()/js_object_next() and js_array_begin()/js_array_next()
 * for containers (the *_next calls eat the commas and the closing bracket).
 * js_span() skips a value as js_skip() does and says where it lies, for a
 * caller that keeps a value's bytes as they are (the simulator keeps each
 * service record verbatim) or scans inside it later with a second js.
 * A struct js is a value type on the caller's stack; it borrows the text.
 */
#ifndef JSCAN_H
#define JSCAN_H

#include <stddef.h>

#define JS_MAX_DEPTH 512
#define JS_MAX_NUMBER_LEN 127

enum js_type {
    JS_ERROR = -1,
    JS_NULL = 1,
    JS_FALSE,
    JS_TRUE,
    JS_NUMBER,
    JS_STRING,
    JS_ARRAY,
    JS_OBJECT
};

struct js {
    const char *start, *p, *end;
    int depth;
    int failed;
    size_t err_off;               /* byte offset of the first error */
    const char *err_what;         /* what was wrong there (static text) */
    unsigned char first[JS_MAX_DEPTH]; /* no element read yet, per level */
};

/* Starts scanning len bytes of text; cannot fail. */
void js_init(struct js *s, const char *text, size_t len);

/*
 * The type of the next value (after white space), from its first byte;
 * JS_ERROR at the end of input or on a byte no value starts with.
 */
enum js_type js_peek(struct js *s);

/*
 * Reads a string value, decoding escapes into UTF-8 in out (cap bytes, NUL
 * terminated, truncated when longer at a character boundary, so that valid
 * UTF-8 stays valid; the whole string is still checked).  Returns 0, or -1
 * on error.  *len, when not NULL, gets the bytes stored.
 */
int js_string(struct js *s, char *out, size_t cap, size_t *len);

/*
 * Reads a number value, correctly rounded (as strtod); 0 or -1 (bad
 * grammar, a leading zero as in "01", or a number of more than
 * JS_MAX_NUMBER_LEN characters that needs exact rounding: over 15
 * significant digits or a large exponent, a limit RFC 8259 section 9
 * allows).  A number past the range of a double reads as an infinity (the
 * text is valid JSON).
 */
int js_number(struct js *s, double *v);

/* Reads true, false or null; returns its type or JS_ERROR. */
enum js_type js_literal(struct js *s);

/* Skips one whole value of any type; 0 or -1. */
int js_skip(struct js *s);

/*
 * A value's place in the text given to js_init(): its first byte is at
 * byte off, and it is len bytes long (white space around it excluded).
 */
struct js_span {
    size_t off;
    size_t len;
};

/*
 * Skips one whole value, as js_skip(), and stores its span in *v.  Returns
 * 0, or -1 on error (*v unchanged).  The value's bytes are then
 * text + v->off, and js_init(&inner, text + v->off, v->len) scans it again.
 */
int js_span(struct js *s, struct js_span *v);

/*
 * The byte offset where the scanner stands: after js_peek(), the first
 * byte of the next value; after a value, just past its last byte.  With it
 * a caller that walks a container member by member gets the container's
 * span too.  Cannot fail.
 */
size_t js_offset(const struct js *s);

/* Consumes '{'; 0 or -1 (not an object, or too deep). */
int js_object_begin(struct js *s);

/*
 * Moves to the next member: returns 1 with its key in key (truncated to
 * cap) and the ':' consumed, the value to read next; 0 when the object has
 * ended ('}' consumed); -1 on error.
 */
int js_object_next(struct js *s, char *key, size_t cap);

/* Consumes '['; 0 or -1. */
int js_array_begin(struct js *s);

/* 1 when an element follows (read it next); 0 at ']' (consumed); -1. */
int js_array_next(struct js *s);

/* 0 if only white space is left, else -1 (trailing data). */
int js_finish(struct js *s);

#endif
