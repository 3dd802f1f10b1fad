#include "services/password/hash_memory.h"

#include <argon2.h>
#include <sys/mman.h>

namespace iam::password::hash_memory {
namespace {

constexpr size_t kHugePage = size_t{2} << 20;

size_t RoundUp(size_t bytes) { return (bytes + kHugePage - 1) & ~(kHugePage - 1); }

// A mapping of `bytes` (a multiple of kHugePage) that starts on a huge page
// boundary: map one huge page more and unmap what sticks out on each side.
void* MapAligned(size_t bytes) {
  const size_t span = bytes + kHugePage;
  void* raw = mmap(nullptr, span, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (raw == MAP_FAILED) return nullptr;
  const uintptr_t start = reinterpret_cast<uintptr_t>(raw);
  const uintptr_t aligned = (start + kHugePage - 1) & ~(kHugePage - 1);
  const size_t head = aligned - start;
  if (head > 0) munmap(raw, head);
  const size_t tail = span - head - bytes;
  if (tail > 0) munmap(reinterpret_cast<void*>(aligned + bytes), tail);
  void* region = reinterpret_cast<void*>(aligned);
  // Advice only: without it the region still works, with small pages or
  // in core dumps.
  madvise(region, bytes, MADV_HUGEPAGE);
  madvise(region, bytes, MADV_DONTDUMP);
  return region;
}

struct ThreadRegion {
  void* base = nullptr;
  size_t bytes = 0;
  bool in_use = false;

  ~ThreadRegion() {
    if (base != nullptr) munmap(base, bytes);
  }
};

thread_local ThreadRegion region;

}  // namespace

int Allocate(uint8_t** memory, size_t bytes) {
  if (region.in_use) return ARGON2_MEMORY_ALLOCATION_ERROR;
  if (bytes > region.bytes) {
    if (region.base != nullptr) munmap(region.base, region.bytes);
    region.bytes = RoundUp(bytes);
    region.base = MapAligned(region.bytes);
    if (region.base == nullptr) {
      region.bytes = 0;
      return ARGON2_MEMORY_ALLOCATION_ERROR;
    }
  }
  region.in_use = true;
  *memory = static_cast<uint8_t*>(region.base);
  return ARGON2_OK;
}

void Release(uint8_t* memory, size_t /*bytes*/) {
  if (memory == region.base) region.in_use = false;
}

Region ThisThreadRegion() { return {region.base, region.bytes}; }

}  // namespace iam::password::hash_memory
