// iamd's threads that answer RPCs run with a short scheduler slice, its
// background threads (the audit log's, RocksDB's) with the default one,
// and --rpc_slice_us=0 leaves every thread at the default. Read from the
// outside, per thread of the running server.
#include <dirent.h>
#include <sys/types.h>

#include <fstream>
#include <map>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/match.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "services/common/sched_slice.h"
#include "tests/iamd_process.h"

namespace iam::testing {
namespace {

struct Thread {
  std::string name;
  absl::Duration slice;
};

// Every thread of `pid` with its name and slice.
std::vector<Thread> ThreadsOf(pid_t pid) {
  std::vector<Thread> threads;
  const std::string dir = "/proc/" + std::to_string(pid) + "/task";
  DIR* d = opendir(dir.c_str());
  if (d == nullptr) return threads;
  while (dirent* entry = readdir(d)) {
    int tid = 0;
    if (!absl::SimpleAtoi(entry->d_name, &tid)) continue;
    std::ifstream comm(dir + "/" + entry->d_name + "/comm");
    std::string name;
    std::getline(comm, name);
    absl::StatusOr<absl::Duration> slice = ThreadSliceOf(tid);
    if (slice.ok()) threads.push_back({name, *slice});
  }
  closedir(d);
  return threads;
}

class SchedSliceE2eTest : public ::testing::Test {
 protected:
  void SetUp() override {
    default_slice_ = ThreadSlice().value_or(absl::ZeroDuration());
    absl::Status probe = SetThreadSlice(absl::Microseconds(100));
    if (absl::IsUnimplemented(probe) || default_slice_ == absl::ZeroDuration()) {
      GTEST_SKIP() << "this kernel has no per-thread slices";
    }
    ASSERT_TRUE(SetThreadSlice(absl::ZeroDuration()).ok());
  }

  absl::Duration default_slice_;
};

TEST_F(SchedSliceE2eTest, RpcThreadsGetTheShortSliceAndBackgroundThreadsKeepTheDefault) {
  auto iamd = IamdProcess::Start(NewTempDir("slice"));
  ASSERT_TRUE(iamd.ok()) << iamd.status();
  const std::vector<Thread> threads = ThreadsOf((*iamd)->pid());
  ASSERT_FALSE(threads.empty());
  int short_sliced = 0;
  std::map<std::string, absl::Duration> background;
  for (const Thread& t : threads) {
    if (t.slice == absl::Microseconds(100)) ++short_sliced;
    if (absl::StartsWith(t.name, "audit-") || absl::StartsWith(t.name, "rocksdb:")) {
      background[t.name] = t.slice;
    }
  }
  // gRPC's threads and the services' pools.
  EXPECT_GE(short_sliced, 8);
  ASSERT_TRUE(background.count("audit-writer")) << "the audit writer is named";
  for (const auto& [name, slice] : background) {
    EXPECT_EQ(slice, default_slice_) << name;
  }
}

TEST_F(SchedSliceE2eTest, ZeroLeavesEveryThreadAtTheDefault) {
  auto iamd = IamdProcess::Start(NewTempDir("slice-off"), {"--rpc_slice_us=0"});
  ASSERT_TRUE(iamd.ok()) << iamd.status();
  const std::vector<Thread> threads = ThreadsOf((*iamd)->pid());
  ASSERT_FALSE(threads.empty());
  for (const Thread& t : threads) EXPECT_EQ(t.slice, default_slice_) << t.name;
}

}  // namespace
}  // namespace iam::testing
