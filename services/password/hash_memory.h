// Memory for Argon2id's blocks. libargon2 asks for the whole block matrix
// (19 MiB with the default parameters) at every hash and frees it after.
// These callbacks (argon2_context's allocate_cbk and free_cbk) give each
// thread one region instead, kept for the thread's next hash:
//  - aligned to 2 MiB and advised for transparent huge pages, so that
//    Argon2's data-dependent block reads miss the TLB less (measured 3-7%
//    faster hashes; see docs/BENCHMARKS.md, Password);
//  - faulted in once, not at every hash;
//  - excluded from core dumps (the blocks are derived from the password).
// libargon2 wipes the blocks before it calls Release, as it does before
// free(). The region is unmapped when its thread exits.
#ifndef IAM_SERVICES_PASSWORD_HASH_MEMORY_H_
#define IAM_SERVICES_PASSWORD_HASH_MEMORY_H_

#include <cstddef>
#include <cstdint>

namespace iam::password::hash_memory {

// argon2_context.allocate_cbk: the calling thread's region, grown (and
// re-mapped) if `bytes` is more than it holds. ARGON2_OK (0), or
// ARGON2_MEMORY_ALLOCATION_ERROR when the region is in use (a nested
// hash) or cannot be mapped.
int Allocate(uint8_t** memory, size_t bytes);

// argon2_context.free_cbk: hands the region back to its thread.
void Release(uint8_t* memory, size_t bytes);

// The calling thread's region: {nullptr, 0} before its first Allocate.
struct Region {
  const void* base;
  size_t bytes;
};
Region ThisThreadRegion();

}  // namespace iam::password::hash_memory

#endif  // IAM_SERVICES_PASSWORD_HASH_MEMORY_H_
