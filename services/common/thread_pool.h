// ThreadPool: a fixed set of threads that run blocking work (synced writes,
// calls to other services) off gRPC's callback threads, which must never
// block: a callback thread waiting on an in-process call that itself needs a
// callback thread would deadlock. Each service owns its own pool, so a
// service waiting on another never waits on its own threads.
// Thread-safe. The destructor runs every scheduled task, then joins.
#ifndef IAM_SERVICES_COMMON_THREAD_POOL_H_
#define IAM_SERVICES_COMMON_THREAD_POOL_H_

#include <deque>
#include <functional>
#include <thread>
#include <vector>

#include "absl/synchronization/mutex.h"

namespace iam {

class ThreadPool {
 public:
  // REQUIRES: threads > 0.
  explicit ThreadPool(int threads);
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  void Schedule(std::function<void()> task);

 private:
  void Work();

  absl::Mutex mu_;
  std::deque<std::function<void()>> tasks_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::vector<std::thread> threads_;
};

}  // namespace iam

#endif  // IAM_SERVICES_COMMON_THREAD_POOL_H_
