#include "services/common/sched_slice.h"

#include <pthread.h>
#include <sched.h>

#include <thread>

#include "gtest/gtest.h"

namespace iam {
namespace {

// Runs each test on a fresh thread, so that what one sets does not leak.
template <typename Fn>
void OnNewThread(Fn fn) {
  std::thread(fn).join();
}

TEST(SchedSliceTest, ASetSliceIsWhatTheKernelReportsAndNewThreadsInheritIt) {
  OnNewThread([] {
    absl::Status set = SetThreadSlice(absl::Microseconds(200));
    if (absl::IsUnimplemented(set)) GTEST_SKIP() << set;
    ASSERT_TRUE(set.ok()) << set;
    EXPECT_EQ(ThreadSlice().value(), absl::Microseconds(200));
    absl::Duration child = absl::ZeroDuration();
    std::thread([&child] { child = ThreadSlice().value(); }).join();
    EXPECT_EQ(child, absl::Microseconds(200));
  });
}

TEST(SchedSliceTest, ZeroRestoresTheDefaultSlice) {
  OnNewThread([] {
    const absl::Duration before = ThreadSlice().value();
    absl::Status set = SetThreadSlice(absl::Microseconds(150));
    if (absl::IsUnimplemented(set)) GTEST_SKIP() << set;
    ASSERT_TRUE(set.ok()) << set;
    ASSERT_TRUE(SetThreadSlice(absl::ZeroDuration()).ok());
    EXPECT_EQ(ThreadSlice().value(), before);
  });
}

TEST(SchedSliceTest, TheKernelClampsASliceToItsRange) {
  OnNewThread([] {
    absl::Status set = SetThreadSlice(absl::Microseconds(1));
    if (absl::IsUnimplemented(set)) GTEST_SKIP() << set;
    ASSERT_TRUE(set.ok()) << set;
    EXPECT_EQ(ThreadSlice().value(), absl::Microseconds(100));
  });
}

TEST(SchedSliceTest, ANegativeSliceIsRefusedAndChangesNothing) {
  OnNewThread([] {
    const absl::Duration before = ThreadSlice().value();
    absl::Status set = SetThreadSlice(absl::Microseconds(-5));
    EXPECT_EQ(set.code(), absl::StatusCode::kInvalidArgument);
    EXPECT_EQ(ThreadSlice().value(), before);
  });
}

TEST(SchedSliceTest, AThreadOutsideTheFairClassesHasNoSliceToSet) {
  OnNewThread([] {
    sched_param param{};
    ASSERT_EQ(pthread_setschedparam(pthread_self(), SCHED_IDLE, &param), 0);
    absl::Status set = SetThreadSlice(absl::Microseconds(200));
    EXPECT_EQ(set.code(), absl::StatusCode::kFailedPrecondition) << set;
    int policy = 0;
    ASSERT_EQ(pthread_getschedparam(pthread_self(), &policy, &param), 0);
    EXPECT_EQ(policy, SCHED_IDLE);
  });
}

}  // namespace
}  // namespace iam
