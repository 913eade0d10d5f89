# Deterministic text shaped like source code, docs and logs: skewed word choice and
# repeated recent lines, so it compresses about as well as real text does (gzip ~4x).
# Run as: awk -v seed=N -v total=BYTES -f base-text.awk
function rnd(n) { s = (s * 16807) % 2147483647; return s % n }
function word() { return w[1 + int(rnd(nw) * rnd(nw) / nw)] }
BEGIN {
  s = seed + 12345
  nw = split("the int return if static void char const struct a of to in is for with size_t uint8_t buffer length offset index value result error status config option path name file data node list table entry header count flags mode type init free alloc read write open close parse format print check update insert delete lookup hash string number object array stream socket signal thread mutex lock unlock queue stack tree graph layer store closure digest manifest image package version build output input module that as on by this be are from or an it at which not was can has have will when all but more", w, " ")
  bytes = 0
  while (bytes < total) {
    k = rnd(8)
    if (k == 0) line = sprintf("%s_%s(%s, %d);", word(), word(), word(), rnd(64))
    else if (k == 1) line = sprintf("    %s %s = %s->%s + %d;", w[1 + rnd(8)], word(), word(), word(), rnd(16))
    else if (k == 2) line = sprintf("[%5d.%03d] %s: %s %s %s (%d)", bytes / 512, rnd(999), word(), word(), word(), word(), rnd(10))
    else if (k == 3) { line = ""; n = 4 + rnd(10); for (i = 0; i < n; i++) line = line word() " "; line = toupper(substr(line, 1, 1)) substr(line, 2) "." }
    else if (k == 4) line = sprintf("#define %s_%s %d", toupper(word()), toupper(word()), rnd(256))
    else line = recent[rnd(32)]
    recent[rnd(32)] = line
    print line
    bytes += length(line) + 1
  }
}
