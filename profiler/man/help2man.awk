# Turns the --help text of a fathom command into a man page (roff, man
# macros), so that the page and --help are made from one text. The layout the
# help texts share (profiler/cmd-util.c cmd_help()):
#   "usage: fathom CMD ..." and "       fathom CMD ..." lines: the synopsis;
#   an unindented line ending in ':': a section heading;
#   an indented line starting with '-': an option, its text after two spaces
#     (or on the indented lines below it);
#   other lines: running text, paragraphs separated by blank lines.
# Variables: name (fathom-report), title (FATHOM-REPORT), summary, version,
# see_also ("fathom(1)").

# Roff escapes: a backslash, and a '.' or '\'' that would open a request.
function esc(s) {
	gsub(/\\/, "\\e", s)
	sub(/^[.']/, "\\\\\\&&", s)
	return s
}
# Option names: real minus signs, so that they can be searched and copied.
function optesc(s) {
	s = esc(s)
	gsub(/-/, "\\-", s)
	return s
}
BEGIN {
	print ".\\\" Made from 'fathom " substr(name, 8) " --help' by profiler/man/help2man.awk; do not edit."
	print ".TH " title " 1 \"\" \"fathom " version "\" \"fathom manual\""
	print ".SH NAME"
	print name " \\- " esc(summary)
	state = "start"
}

/^usage: / {
	print ".SH SYNOPSIS"
	print ".nf"
	sub(/^usage: +/, "")
	print optesc($0)
	state = "synopsis"
	next
}
state == "synopsis" && /^       / {
	sub(/^ +/, "")
	print optesc($0)
	next
}
state == "synopsis" {
	print ".fi"
	print ".SH DESCRIPTION"
	state = "text"
}

/^[ \t]*$/ {
	if (state != "para") {
		print ".PP"
		state = "para"
	}
	next
}

# A section heading: "common options:", "budgets (SIZE: 64M, ...):".
/^[^ ].*:$/ {
	sub(/:$/, "")
	print ".SS \"" esc($0) "\""
	state = "text"
	next
}

# An option: "  -q, --quiet        text" or "      --suppressions FILE" alone.
/^ +-/ {
	line = $0
	sub(/^ +/, "", line)
	spec = line
	rest = ""
	if (match(line, /  +/)) {
		spec = substr(line, 1, RSTART - 1)
		rest = substr(line, RSTART + RLENGTH)
	}
	print ".TP"
	print ".B " optesc(spec)
	if (rest != "")
		print esc(rest)
	state = "option"
	next
}

# A list item that is no option: "  record   run a program ..." (fathom --help).
/^  [a-z]+   */ {
	line = $0
	sub(/^ +/, "", line)
	match(line, /  +/)
	print ".TP"
	print ".B " esc(substr(line, 1, RSTART - 1))
	print esc(substr(line, RSTART + RLENGTH))
	state = "option"
	next
}

# Running text (roff fills it); indented lines under an option continue its text.
{
	line = $0
	if (state == "option" && line !~ /^ /)
		print ".PP" # running text after a list leaves the last option
	sub(/^ +/, "", line)
	print esc(line)
	state = state == "option" && $0 ~ /^ / ? "option" : "text"
}

END {
	if (see_also != "") {
		print ".SH SEE ALSO"
		print see_also
	}
}
