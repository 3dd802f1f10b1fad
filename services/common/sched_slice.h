// Per-thread scheduler time slices (Linux EEVDF, 6.12 and later).
//
// Under EEVDF a thread that wakes up does not preempt the running one until
// that one's slice ends (about 1.5-3 ms here) unless the waking thread asks
// for a shorter slice than it. iamd asks for a short slice on the threads that
// answer RPCs, so that a decision does not wait behind a batch of background
// work (the audit writer, RocksDB's flushes) that happens to hold its core,
// and gives the background threads the system's default slice back.
#ifndef IAM_SERVICES_COMMON_SCHED_SLICE_H_
#define IAM_SERVICES_COMMON_SCHED_SLICE_H_

#include <sys/types.h>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace iam {

// Sets the calling thread's slice; the kernel clamps it to 0.1-100 ms.
// absl::ZeroDuration() restores the system's default. Threads created
// afterwards by this thread inherit it. Fails with UNIMPLEMENTED where the
// kernel has no per-thread slices (before 6.12), and changes nothing then.
absl::Status SetThreadSlice(absl::Duration slice);

// The calling thread's slice as the kernel reports it, or ZeroDuration()
// when it runs with the system's default.
absl::StatusOr<absl::Duration> ThreadSlice();
// The same for another thread (a Linux thread id), e.g. of a child process.
absl::StatusOr<absl::Duration> ThreadSliceOf(pid_t tid);

}  // namespace iam

#endif  // IAM_SERVICES_COMMON_SCHED_SLICE_H_
