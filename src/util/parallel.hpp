// Running the same job over indices on a few threads.
#pragma once

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <thread>
#include <vector>

namespace netpol {

// Calls body(0) ... body(count - 1), each index exactly once, on at most `max_threads`
// threads counting the caller's (who takes indices too); returns when every call has
// returned. Indices are handed out one at a time as threads become free, so slow items do not
// hold up the rest. `body` runs concurrently with itself: it must only touch what index i
// owns, or lock.
template <typename Body> void parallel_for(size_t count, size_t max_threads, const Body& body) {
  std::atomic<size_t> next{0};
  auto worker = [&] {
    for (size_t i = next++; i < count; i = next++)
      body(i);
  };
  std::vector<std::jthread> helpers; // joined when they go out of scope
  for (size_t t = 1; t < std::min(count, max_threads); ++t)
    helpers.emplace_back(worker);
  worker();
}

} // namespace netpol
