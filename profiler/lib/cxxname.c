/* Reading demangled C++ names (see cxxname.h): a small scanner that knows
 * the brackets of the demangler's output and the operators that look like
 * brackets. */
#include <stdbool.h>
#include <string.h>

#include "cxxname.h"

/* How many bytes of operator characters follow "operator" at name[i]
 * ("<", "<<", "<=>", "->", ">>="...), or 0 when name[i] does not end the word
 * "operator". */
static size_t operator_len(const char *name, size_t i)
{
	if (i < 8 || strncmp(name + i - 8, "operator", 8))
		return 0;
	size_t n = 0;
	while (n < 3 && name[i + n] && strchr("<>=-", name[i + n]))
		n++;
	return n;
}

const char *cxxname_qualified(const char *name)
{
	/* The return type ends at the last space outside brackets before the
	 * parameter list; "operator new" and "(anonymous namespace)" hold
	 * spaces of their own. */
	const char *start = name;
	int depth = 0;
	for (size_t i = 0; name[i]; i++) {
		size_t op = operator_len(name, i);
		if (op) {
			i += op - 1;
			continue;
		}
		char c = name[i];
		if (c == '<' || c == '[' || c == '{')
			depth++;
		else if ((c == '>' || c == ']' || c == '}') && depth > 0)
			depth--;
		else if (c == '(' && depth == 0) {
			if (!strncmp(name + i, "(anonymous namespace)", 21)) {
				i += 20;
				continue;
			}
			break;
		} else if (c == ' ' && depth == 0 && !(i >= 8 && !strncmp(name + i - 8, "operator", 8)))
			start = name + i + 1;
	}
	return start;
}

const char *cxxname_short(const char *name, char *buf, size_t len)
{
	if (!strchr(name, '<') || len < 8)
		return name;
	size_t o = 0;
	for (size_t i = 0; name[i] && o + 1 < len;) {
		size_t op = operator_len(name, i);
		if (op) {
			for (size_t k = 0; k < op && o + 1 < len; k++)
				buf[o++] = name[i++];
			continue;
		}
		/* Template arguments follow a name; a '<' that starts a name
		 * is a Python one's (<module>, f.<locals>.<lambda>). */
		if (name[i] != '<' || i == 0 || name[i - 1] == '.') {
			buf[o++] = name[i++];
			continue;
		}
		/* Skips to the matching '>'; inside, parentheses hold function
		 * types and expressions whose '>' do not close anything. */
		int depth = 0, paren = 0;
		for (; name[i]; i++) {
			if (operator_len(name, i)) {
				i += operator_len(name, i) - 1;
				continue;
			}
			char c = name[i];
			if (c == '(')
				paren++;
			else if (c == ')' && paren > 0)
				paren--;
			else if (c == '<' && !paren)
				depth++;
			else if (c == '>' && !paren && --depth == 0) {
				i++;
				break;
			}
		}
		static const char dots[] = "<\xe2\x80\xa6>"; /* "<…>" */
		if (o + sizeof(dots) > len)
			break;
		memcpy(buf + o, dots, sizeof(dots) - 1);
		o += sizeof(dots) - 1;
	}
	buf[o] = '\0';
	return buf;
}
