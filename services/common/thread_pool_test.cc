#include "services/common/thread_pool.h"

#include <atomic>

#include "absl/synchronization/notification.h"
#include "gtest/gtest.h"

namespace iam {
namespace {

TEST(ThreadPoolTest, RunsEveryTaskBeforeDestruction) {
  std::atomic<int> ran{0};
  {
    ThreadPool pool(3);
    for (int i = 0; i < 1000; ++i) pool.Schedule([&] { ran++; });
  }
  EXPECT_EQ(ran.load(), 1000);
}

TEST(ThreadPoolTest, BlockedTaskDoesNotStopOthers) {
  ThreadPool pool(2);
  absl::Notification release, other_ran;
  pool.Schedule([&] { release.WaitForNotification(); });
  pool.Schedule([&] { other_ran.Notify(); });
  other_ran.WaitForNotification();
  release.Notify();
}

}  // namespace
}  // namespace iam
