#include "services/lifecycle/scheduler.h"

#include <algorithm>
#include <iostream>

namespace iam::lifecycle {

Scheduler::Scheduler(Lifecycle* lifecycle, const Clock* clock, Options options)
    : lifecycle_(lifecycle), clock_(clock), options_(options) {}

Scheduler::~Scheduler() { Stop(); }

absl::Status Scheduler::RunPass() {
  absl::MutexLock pass(&pass_mu_);
  absl::Status status = lifecycle_->ApplyDue().status();
  bool recheck = false;
  {
    absl::MutexLock lock(&mu_);
    if (clock_->Now() - last_pending_check_ >= options_.pending_recheck_interval) {
      last_pending_check_ = clock_->Now();
      recheck = true;
    }
  }
  if (recheck) {
    absl::Status pending = lifecycle_->ResolvePending();
    if (status.ok()) status = pending;
  }
  return status;
}

void Scheduler::Start() {
  lifecycle_->set_schedule_listener([this] { Wake(); });
  thread_ = std::thread([this] { Loop(); });
}

void Scheduler::Stop() {
  {
    absl::MutexLock lock(&mu_);
    stop_ = true;
  }
  if (thread_.joinable()) thread_.join();
}

void Scheduler::Wake() {
  absl::MutexLock lock(&mu_);
  wake_ = true;
}

void Scheduler::AwaitPass() {
  absl::MutexLock lock(&mu_);
  // A pass already running may have missed what the caller just did.
  const int64_t target = started_ + 1;
  wake_ = true;
  auto done = [this, target]() ABSL_SHARED_LOCKS_REQUIRED(mu_) {
    return finished_ >= target || stop_;
  };
  mu_.Await(absl::Condition(&done));
}

int64_t Scheduler::passes() const {
  absl::MutexLock lock(&mu_);
  return finished_;
}

absl::Status Scheduler::last_status() const {
  absl::MutexLock lock(&mu_);
  return last_status_;
}

void Scheduler::Loop() {
  while (true) {
    {
      absl::MutexLock lock(&mu_);
      if (stop_) return;
      wake_ = false;
      ++started_;
    }
    absl::Status status = RunPass();
    if (!status.ok()) {
      std::cerr << "lifecycle scheduler: " << status.message()
                << " (will retry)\n";
    }
    absl::Duration sleep = options_.max_sleep;
    absl::optional<absl::Time> next = lifecycle_->NextDue();
    if (next.has_value()) {
      sleep = std::min(sleep, std::max(absl::ZeroDuration(), *next - clock_->Now()));
    }
    if (!status.ok()) sleep = options_.max_sleep;
    // Never spin: what is still due after a pass waits a little.
    sleep = std::max(sleep, absl::Milliseconds(10));
    absl::MutexLock lock(&mu_);
    ++finished_;
    last_status_ = status;
    auto woken = [this]() ABSL_SHARED_LOCKS_REQUIRED(mu_) { return wake_ || stop_; };
    mu_.AwaitWithTimeout(absl::Condition(&woken), sleep);
  }
}

}  // namespace iam::lifecycle
