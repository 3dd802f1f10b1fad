// BoundedPool: the worker pool password hashing runs on. A fixed number of
// threads (about one per core) and a bounded queue: when every worker is
// busy and the queue is full, TrySchedule refuses at once with
// RESOURCE_EXHAUSTED instead of letting a storm of logins pile up without
// limit. The workers run at a lower CPU priority (a positive nice value) so
// that, with logins saturating them, the latency-critical RPCs that run on
// gRPC's own threads (authz Check) still get the CPU first.
//
// Thread-safe. The destructor runs every queued task, then joins.
#ifndef IAM_SERVICES_PASSWORD_BOUNDED_POOL_H_
#define IAM_SERVICES_PASSWORD_BOUNDED_POOL_H_

#include <deque>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"

namespace iam::password {

class BoundedPool {
 public:
  struct Options {
    // Worker threads; 0 means one per online core.
    int threads = 0;
    // Tasks that may wait for a worker; beyond that TrySchedule refuses.
    int queue_capacity = 64;
    // Added to the workers' nice value (0 leaves it).
    int nice = 10;
    // Names the pool in error messages, e.g. "password hashing".
    std::string name = "worker";
  };

  explicit BoundedPool(Options options);
  ~BoundedPool();
  BoundedPool(const BoundedPool&) = delete;
  BoundedPool& operator=(const BoundedPool&) = delete;

  // Queues `task`, or returns RESOURCE_EXHAUSTED (saying how full the pool
  // is) without queuing it.
  absl::Status TrySchedule(std::function<void()> task);

  int threads() const { return static_cast<int>(threads_.size()); }
  int queue_capacity() const { return options_.queue_capacity; }
  // Tasks waiting (not running) right now.
  int queued() const;
  // Tasks running right now.
  int running() const;

 private:
  void Work();

  const Options options_;
  mutable absl::Mutex mu_;
  std::deque<std::function<void()>> tasks_ ABSL_GUARDED_BY(mu_);
  int running_ ABSL_GUARDED_BY(mu_) = 0;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::vector<std::thread> threads_;
};

}  // namespace iam::password

#endif  // IAM_SERVICES_PASSWORD_BOUNDED_POOL_H_
