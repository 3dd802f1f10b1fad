// jemalloc's compiled-in options for every binary that links
// //third_party/system:jemalloc (read by jemalloc at start-up; MALLOC_CONF in
// the environment still overrides them).
//
// oversize_threshold:0 turns off jemalloc's dedicated arena for allocations
// of 8 MiB and more, whose pages it returns to the kernel at once: Argon2id
// allocates its 19 MiB for every hash, and fresh pages made each login
// ~20% slower than the same hash in a process on glibc malloc (measured with
// tests/password_load). Reused, they cost nothing more.
extern "C" {
extern const char* malloc_conf;
const char* malloc_conf = "oversize_threshold:0";
}
