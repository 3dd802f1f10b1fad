#include "services/password/hash_memory.h"

#include <argon2.h>

#include <cstdint>
#include <fstream>
#include <string>
#include <thread>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "gtest/gtest.h"

namespace iam::password::hash_memory {
namespace {

constexpr size_t kHugePage = size_t{2} << 20;

// The VmFlags line of the mapping of /proc/self/smaps that starts at `base`.
std::string VmFlagsOf(const void* base) {
  std::ifstream smaps("/proc/self/smaps");
  std::string line;
  bool in_mapping = false;
  const uintptr_t want = reinterpret_cast<uintptr_t>(base);
  while (std::getline(smaps, line)) {
    const size_t dash = line.find('-');
    if (dash != std::string::npos && dash < 17 && line.find(' ') > dash) {
      uint64_t start = 0;
      in_mapping = absl::SimpleHexAtoi(line.substr(0, dash), &start) && start == want;
      continue;
    }
    if (in_mapping && absl::StartsWith(line, "VmFlags:")) return line;
  }
  return "";
}

TEST(HashMemoryTest, ARegionIsAlignedAdvisedAndKeptForTheThreadsNextHash) {
  EXPECT_EQ(ThisThreadRegion().base, nullptr);
  uint8_t* first = nullptr;
  ASSERT_EQ(Allocate(&first, 19456 * 1024), ARGON2_OK);
  ASSERT_NE(first, nullptr);
  EXPECT_EQ(reinterpret_cast<uintptr_t>(first) % kHugePage, 0u);
  EXPECT_EQ(ThisThreadRegion().base, first);
  EXPECT_EQ(ThisThreadRegion().bytes, 20 * (size_t{1} << 20));
  first[0] = 1;
  first[19456 * 1024 - 1] = 1;  // the whole request is writable
  const std::string flags = VmFlagsOf(first);
  if (std::ifstream("/sys/kernel/mm/transparent_hugepage/enabled").good()) {
    EXPECT_TRUE(absl::StrContains(flags, " hg")) << flags;  // huge pages advised
  }
  EXPECT_TRUE(absl::StrContains(flags, " dd")) << flags;  // not in core dumps
  Release(first, 19456 * 1024);

  uint8_t* again = nullptr;
  ASSERT_EQ(Allocate(&again, 8 * 1024), ARGON2_OK);
  EXPECT_EQ(again, first);  // reused, not re-mapped
  Release(again, 8 * 1024);
}

TEST(HashMemoryTest, ALargerHashGrowsTheRegion) {
  // On a thread of its own: this one's region was grown by the test above.
  std::thread([] {
    uint8_t* small = nullptr;
    ASSERT_EQ(Allocate(&small, 64 * 1024), ARGON2_OK);
    Release(small, 64 * 1024);
    EXPECT_EQ(ThisThreadRegion().bytes, kHugePage);
    uint8_t* large = nullptr;
    ASSERT_EQ(Allocate(&large, 3 * kHugePage + 1), ARGON2_OK);
    EXPECT_EQ(ThisThreadRegion().bytes, 4 * kHugePage);
    EXPECT_EQ(reinterpret_cast<uintptr_t>(large) % kHugePage, 0u);
    large[3 * kHugePage] = 1;
    Release(large, 3 * kHugePage + 1);
  }).join();
}

TEST(HashMemoryTest, ARegionInUseIsNotHandedOutTwice) {
  uint8_t* held = nullptr;
  ASSERT_EQ(Allocate(&held, 64 * 1024), ARGON2_OK);
  uint8_t* nested = nullptr;
  EXPECT_EQ(Allocate(&nested, 64 * 1024), ARGON2_MEMORY_ALLOCATION_ERROR);
  Release(held, 64 * 1024);
  EXPECT_EQ(Allocate(&nested, 64 * 1024), ARGON2_OK);
  Release(nested, 64 * 1024);
}

TEST(HashMemoryTest, EachThreadHasItsOwnRegion) {
  uint8_t* mine = nullptr;
  ASSERT_EQ(Allocate(&mine, 64 * 1024), ARGON2_OK);
  uint8_t* theirs = nullptr;
  std::thread other([&] {
    ASSERT_EQ(Allocate(&theirs, 64 * 1024), ARGON2_OK);
    Release(theirs, 64 * 1024);
  });
  other.join();
  EXPECT_NE(theirs, nullptr);
  EXPECT_NE(theirs, mine);
  // The other thread's region was unmapped when it exited.
  EXPECT_EQ(VmFlagsOf(theirs), "");
  Release(mine, 64 * 1024);
}

}  // namespace
}  // namespace iam::password::hash_memory
