#include "services/password/bounded_pool.h"

#include <pthread.h>
#include <sched.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cassert>

#include "absl/strings/str_cat.h"

namespace iam::password {

int BoundedPool::DefaultThreads(int cores) { return cores > 1 ? cores - 1 : 1; }

BoundedPool::BoundedPool(Options options) : options_(std::move(options)) {
  assert(options_.queue_capacity >= 0);
  const int n = options_.threads > 0
                    ? options_.threads
                    : DefaultThreads(static_cast<int>(std::thread::hardware_concurrency()));
  for (int i = 0; i < n; ++i) threads_.emplace_back([this] { Work(); });
}

BoundedPool::~BoundedPool() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  for (auto& t : threads_) t.join();
}

absl::Status BoundedPool::TrySchedule(std::function<void()> task) {
  absl::MutexLock lock(&mu_);
  // Every task either runs on a worker or waits in the queue.
  const int in_flight = running_ + static_cast<int>(tasks_.size());
  if (in_flight >= static_cast<int>(threads_.size()) + options_.queue_capacity) {
    return absl::ResourceExhaustedError(absl::StrCat(
        "the ", options_.name, " pool is saturated (", threads_.size(),
        " workers busy, ", options_.queue_capacity,
        " requests waiting); retry in a moment"));
  }
  tasks_.push_back(std::move(task));
  return absl::OkStatus();
}

int BoundedPool::queued() const {
  absl::MutexLock lock(&mu_);
  return static_cast<int>(tasks_.size());
}

int BoundedPool::running() const {
  absl::MutexLock lock(&mu_);
  return running_;
}

void BoundedPool::Work() {
  if (!options_.thread_name.empty()) {
    // Names the threads in top, perf and /proc (at most 15 characters).
    pthread_setname_np(pthread_self(), options_.thread_name.substr(0, 15).c_str());
  }
  if (options_.idle_scheduling) {
    sched_param param{};
    param.sched_priority = 0;
    pthread_setschedparam(pthread_self(), SCHED_IDLE, &param);
  }
  if (options_.nice != 0) {
    // Linux applies a nice value per thread (a task), by its thread id.
    setpriority(PRIO_PROCESS, static_cast<id_t>(syscall(SYS_gettid)),
                getpriority(PRIO_PROCESS, 0) + options_.nice);
  }
  for (;;) {
    std::function<void()> task;
    {
      absl::MutexLock lock(&mu_);
      auto ready = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
        return !tasks_.empty() || stopping_;
      };
      mu_.Await(absl::Condition(&ready));
      if (tasks_.empty()) return;
      task = std::move(tasks_.front());
      tasks_.pop_front();
      ++running_;
    }
    task();
    absl::MutexLock lock(&mu_);
    --running_;
  }
}

}  // namespace iam::password
