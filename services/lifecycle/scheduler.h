// Scheduler: applies future-dated HR events when they come due, resumes
// events that stopped part way, and grants pending birthright access once
// its prerequisites are recorded.
//
// A background thread runs a pass (Lifecycle::ApplyDue, and every
// pending_recheck_interval Lifecycle::ResolvePending), then sleeps until the
// next event is due by the injected Clock, at most max_sleep of real time,
// or until Wake(). With a FakeClock a test advances the clock, calls Wake()
// and AwaitPass(): no sleeping on the test's side.
//
// Thread-safe. Stop() (or the destructor) joins the thread.
#ifndef IAM_SERVICES_LIFECYCLE_SCHEDULER_H_
#define IAM_SERVICES_LIFECYCLE_SCHEDULER_H_

#include <cstdint>
#include <thread>

#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "services/common/clock.h"
#include "services/lifecycle/lifecycle.h"

namespace iam::lifecycle {

class Scheduler {
 public:
  struct Options {
    // Longest real-time sleep between passes (a clock jump, a resumed event).
    absl::Duration max_sleep = absl::Seconds(1);
    // How often pending grants are looked at again (by the clock).
    absl::Duration pending_recheck_interval = absl::Seconds(60);
  };

  // REQUIRES: lifecycle and clock outlive the scheduler.
  Scheduler(Lifecycle* lifecycle, const Clock* clock, Options options);
  Scheduler(Lifecycle* lifecycle, const Clock* clock)
      : Scheduler(lifecycle, clock, Options()) {}
  ~Scheduler();
  Scheduler(const Scheduler&) = delete;
  Scheduler& operator=(const Scheduler&) = delete;

  // Runs one pass on the calling thread (start-up catch-up). Returns the
  // first error; what could not be applied stays queued for the next pass.
  absl::Status RunPass();

  void Start();
  void Stop();
  // Makes the thread run a pass now.
  void Wake();
  // Blocks until a pass that began after this call has finished.
  // REQUIRES: Start() was called.
  void AwaitPass();

  // Passes finished so far, and the status of the last one.
  int64_t passes() const;
  absl::Status last_status() const;

 private:
  void Loop();

  Lifecycle* const lifecycle_;
  const Clock* const clock_;
  const Options options_;

  mutable absl::Mutex mu_;
  bool stop_ ABSL_GUARDED_BY(mu_) = false;
  bool wake_ ABSL_GUARDED_BY(mu_) = false;
  int64_t started_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t finished_ ABSL_GUARDED_BY(mu_) = 0;
  absl::Status last_status_ ABSL_GUARDED_BY(mu_);
  absl::Time last_pending_check_ ABSL_GUARDED_BY(mu_) = absl::InfinitePast();
  absl::Mutex pass_mu_;  // one pass at a time
  std::thread thread_;
};

}  // namespace iam::lifecycle

#endif  // IAM_SERVICES_LIFECYCLE_SCHEDULER_H_
