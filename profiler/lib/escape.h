/* Text in every output syntax fathom writes: one UTF-8 decoder, and one
 * escaper per syntax (JSON, XML, a Markdown table cell, a GitHub workflow
 * command, a frame of a folded stack, JSON inside an HTML script element).
 *
 * Names come from any binary and may hold any bytes, so every escaper decodes
 * through utf8_decode (an ill-formed sequence becomes U+FFFD) and follows one
 * rule for control characters (Unicode's Cc: U+0000-001F, U+007F-009F): an
 * escaper writes one as its syntax's escape when the syntax has one that
 * keeps it, and as U+FFFD (a tab or line break: a space, in syntaxes where
 * they are separators) when not. No escaper ever writes a raw control
 * character other than what its syntax is made of. */
#ifndef FATHOM_ESCAPE_H
#define FATHOM_ESCAPE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* Decodes the UTF-8 sequence at *s (NUL-terminated) and moves *s past it.
 * An ill-formed sequence (a stray continuation byte, an overlong form such as
 * C0 80, a surrogate such as ED A0 80, a code point above U+10FFFF, a byte
 * F5-FF, a sequence cut short) gives U+FFFD and moves past its longest valid
 * prefix, as Unicode recommends, so that no writer ever emits text a strict
 * parser rejects. Never reads past the terminating NUL. */
uint32_t utf8_decode(const char **s);
/* Writes code point cp as UTF-8 into buf (at least 4 bytes); returns its length. */
size_t utf8_encode(char *buf, uint32_t cp);
/* True when all of s is well-formed UTF-8. */
bool utf8_valid(const char *s);
/* A copy of s with every ill-formed sequence replaced by U+FFFD (malloc'ed;
 * NULL when out of memory). */
char *utf8_sanitize(const char *s);

/* s as a JSON string literal, quotes included. Controls, U+2028 and U+2029
 * are written as \uXXXX, so the literal is also valid JavaScript and no
 * line-oriented tool splits it. */
void json_write_escaped(FILE *f, const char *s);
/* s as XML character data or attribute text (either quote). Markup is
 * escaped; tab, line feed and carriage return as character references, so
 * that they survive attribute-value normalization; the characters XML 1.0
 * forbids or discourages (the other controls, U+FFFE, U+FFFF) as U+FFFD. */
void xml_write_escaped(FILE *f, const char *s);
/* s as the text of a GitHub-flavoured Markdown table cell: '|' would end the
 * cell, '<' could open HTML, '*', '_', '`' would format; line breaks become
 * spaces (a table row is one line). */
void md_write_escaped(FILE *f, const char *s);
/* s as a GitHub Actions workflow-command value: '%', CR and LF
 * percent-encoded; in a property (property set) also ':' and ','. */
void gh_write_escaped(FILE *f, const char *s, bool property);
/* s as one frame of a folded stack (flamegraph.pl's input): ';' separates
 * frames and becomes ':'; line breaks and tabs become spaces. */
void folded_write_escaped(FILE *f, const char *s);
/* A stream for JSON written into an HTML <script> element: what is written
 * to it goes to f with each '<' as \u003c, so that no "</script" or "<!--"
 * appears in the element. Correct for JSON only, where '<' occurs only inside
 * strings and the escape means the same. Close it with fclose (f stays
 * open); NULL with errno set on failure. */
FILE *html_script_stream(FILE *f);

#endif
