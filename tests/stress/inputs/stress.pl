# A small but real Perl workload for the stress suite: hashes, regexes, sort,
# sprintf, closures, and a warning on stderr. Output is deterministic.
use strict;
use warnings;

my %count;
my @words = map { sprintf("w%03d", ($_ * 7919) % 1000) } 1 .. 60000;
$count{$_}++ for @words;
my @top = (sort { $count{$b} <=> $count{$a} || $a cmp $b } keys %count)[0 .. 4];
print "distinct ", scalar(keys %count), " top @top\n";

my $text = join(" ", map { "item$_=" . ($_ * $_ % 977) } 1 .. 20000);
my $sum = 0;
$sum += $2 while $text =~ /item(\d+)=(\d+)/g;
print "sum $sum\n";

my @adders = map { my $n = $_; sub { $_[0] + $n } } 1 .. 100;
my $acc = 0;
for my $i (1 .. 2000) { $acc = $adders[$i % 100]->($acc) % 1000003 }
print "acc $acc\n";

my $s = join(",", reverse sort { $a <=> $b } map { ($_ * 37) % 10007 } 1 .. 30000);
print "len ", length($s), " head ", substr($s, 0, 20), "\n";
warn "stress.pl: done\n";
exit 4;
