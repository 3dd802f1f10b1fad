// BoundedPool: the worker pool password hashing runs on. A fixed number of
// threads (by default one fewer than the cores, at least one) and a bounded
// queue: when every worker is busy and the queue is full, TrySchedule
// refuses at once with RESOURCE_EXHAUSTED instead of letting a storm of
// logins pile up without limit. So that, with logins saturating the pool,
// the latency-critical RPCs that run on gRPC's own threads (authz Check)
// still get a CPU at once, the default leaves one core without a worker,
// and the workers can run at a lower priority: a positive nice value (a
// smaller CPU share) and/or SCHED_IDLE (preempted as soon as any other
// thread wakes up on their core; a nice value alone does not do that on
// Linux's EEVDF scheduler, 6.6 and later, where a waking thread may wait
// for the running worker's time slice to end).
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
    // Worker threads; 0 means DefaultThreads(online cores).
    int threads = 0;
    // Tasks that may wait for a worker; beyond that TrySchedule refuses.
    int queue_capacity = 64;
    // Added to the workers' nice value (0 leaves it).
    int nice = 10;
    // Names the pool in error messages, e.g. "password hashing".
    std::string name = "worker";
    // Names the worker threads (in top, perf, /proc); up to 15 characters.
    std::string thread_name = "pool-worker";
    // Runs the workers under SCHED_IDLE: any other thread that becomes
    // runnable preempts them at once.
    bool idle_scheduling = false;
  };

  // Workers for `cores` online cores when Options::threads is 0.
  static int DefaultThreads(int cores);

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
