#include "services/password/bounded_pool.h"

#include <pthread.h>
#include <sched.h>

#include <atomic>

#include "absl/synchronization/notification.h"
#include "gtest/gtest.h"

namespace iam::password {
namespace {

TEST(BoundedPoolTest, RunsEveryAcceptedTask) {
  std::atomic<int> ran{0};
  {
    BoundedPool pool({/*threads=*/2, /*queue_capacity=*/100, /*nice=*/0, "test"});
    for (int i = 0; i < 50; ++i) {
      ASSERT_TRUE(pool.TrySchedule([&] { ran++; }).ok());
    }
  }  // the destructor drains the queue
  EXPECT_EQ(ran.load(), 50);
}

TEST(BoundedPoolTest, RefusesWhenWorkersAndQueueAreFull) {
  absl::Notification release;
  std::atomic<int> started{0};
  BoundedPool pool({/*threads=*/2, /*queue_capacity=*/3, /*nice=*/0, "hashing"});
  for (int i = 0; i < 5; ++i) {
    ASSERT_TRUE(pool.TrySchedule([&] {
                      started++;
                      release.WaitForNotification();
                    }).ok())
        << i;
  }
  absl::Status refused = pool.TrySchedule([] {});
  EXPECT_EQ(refused.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_NE(std::string(refused.message()).find("hashing"), std::string::npos);
  release.Notify();
}

TEST(BoundedPoolTest, AcceptsAgainOnceWorkIsDone) {
  BoundedPool pool({/*threads=*/1, /*queue_capacity=*/0, /*nice=*/0, "test"});
  absl::Notification done;
  ASSERT_TRUE(pool.TrySchedule([&] { done.Notify(); }).ok());
  done.WaitForNotification();
  // The worker may still be finishing its bookkeeping; it frees up soon.
  absl::Status s;
  for (int i = 0; i < 1000; ++i) {
    absl::Notification again;
    s = pool.TrySchedule([&] { again.Notify(); });
    if (s.ok()) {
      again.WaitForNotification();
      break;
    }
    absl::SleepFor(absl::Milliseconds(1));
  }
  EXPECT_TRUE(s.ok()) << s;
}

TEST(BoundedPoolTest, DefaultLeavesOneCoreFree) {
  EXPECT_EQ(BoundedPool::DefaultThreads(1), 1);
  EXPECT_EQ(BoundedPool::DefaultThreads(2), 1);
  EXPECT_EQ(BoundedPool::DefaultThreads(8), 7);
  EXPECT_EQ(BoundedPool::DefaultThreads(0), 1);  // unknown core count
  BoundedPool pool(BoundedPool::Options{});
  EXPECT_EQ(pool.threads(), BoundedPool::DefaultThreads(static_cast<int>(
                                std::thread::hardware_concurrency())));
}

TEST(BoundedPoolTest, WorkersRunUnderTheirNameAndPolicy) {
  BoundedPool::Options options;
  options.threads = 1;
  options.nice = 0;
  options.thread_name = "test-hash-pool";
  options.idle_scheduling = true;
  BoundedPool pool(options);
  absl::Notification done;
  char name[16] = {};
  int policy = -1;
  ASSERT_TRUE(pool.TrySchedule([&] {
                    pthread_getname_np(pthread_self(), name, sizeof(name));
                    sched_param param;
                    pthread_getschedparam(pthread_self(), &policy, &param);
                    done.Notify();
                  }).ok());
  done.WaitForNotification();
  EXPECT_STREQ(name, "test-hash-pool");
  EXPECT_EQ(policy, SCHED_IDLE);
}

}  // namespace
}  // namespace iam::password
