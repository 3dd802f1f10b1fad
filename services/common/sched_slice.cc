#include "services/common/sched_slice.h"

#include <errno.h>
#include <linux/sched.h>
#include <sched.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstdint>
#include <cstring>

#include "absl/strings/str_cat.h"

namespace iam {
namespace {

// The kernel's struct sched_attr (its first version, 48 bytes; later fields
// are optional). <linux/sched/types.h> cannot be included with <sched.h>.
struct SchedAttr {
  uint32_t size;
  uint32_t sched_policy;
  uint64_t sched_flags;
  int32_t sched_nice;
  uint32_t sched_priority;
  uint64_t sched_runtime;
  uint64_t sched_deadline;
  uint64_t sched_period;
};

// glibc 2.36 wraps neither call. tid 0: the calling thread.
int GetAttr(SchedAttr* attr, pid_t tid = 0) {
  std::memset(attr, 0, sizeof(*attr));
  return static_cast<int>(
      syscall(SYS_sched_getattr, tid, attr, sizeof(*attr), 0));
}

int SetAttr(SchedAttr* attr) {
  return static_cast<int>(syscall(SYS_sched_setattr, 0, attr, 0));
}

absl::Status Errno(absl::string_view what) {
  const int error = errno;
  return absl::Status(
      error == EPERM ? absl::StatusCode::kPermissionDenied
                     : absl::StatusCode::kInternal,
      absl::StrCat(what, ": ", std::strerror(error)));
}

}  // namespace

absl::Status SetThreadSlice(absl::Duration slice) {
  if (slice < absl::ZeroDuration()) {
    return absl::InvalidArgumentError("a scheduler slice cannot be negative");
  }
  SchedAttr attr;
  if (GetAttr(&attr) != 0) return Errno("sched_getattr");
  if (attr.sched_policy != SCHED_NORMAL && attr.sched_policy != SCHED_BATCH) {
    return absl::FailedPreconditionError(absl::StrCat(
        "only SCHED_OTHER and SCHED_BATCH threads have a slice to set; this "
        "one runs under policy ",
        attr.sched_policy));
  }
  const uint64_t wanted = static_cast<uint64_t>(absl::ToInt64Nanoseconds(slice));
  attr.size = sizeof(attr);
  attr.sched_flags = 0;  // keeps the policy and nice value read above
  attr.sched_runtime = wanted;
  if (SetAttr(&attr) != 0) return Errno("sched_setattr");
  // Kernels before 6.12 accept and ignore the slice of a fair thread.
  if (wanted != 0) {
    SchedAttr now;
    if (GetAttr(&now) != 0) return Errno("sched_getattr");
    if (now.sched_runtime == 0) {
      return absl::UnimplementedError(
          "this kernel has no per-thread scheduler slices (Linux 6.12 or "
          "later has them)");
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<absl::Duration> ThreadSlice() { return ThreadSliceOf(0); }

absl::StatusOr<absl::Duration> ThreadSliceOf(pid_t tid) {
  SchedAttr attr;
  if (GetAttr(&attr, tid) != 0) {
    if (errno == ESRCH) {
      return absl::NotFoundError(absl::StrCat("no thread ", tid));
    }
    return Errno("sched_getattr");
  }
  return absl::Nanoseconds(static_cast<int64_t>(attr.sched_runtime));
}

}  // namespace iam
