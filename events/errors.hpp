#pragma once

#include <stdexcept>

namespace bazaar::events {

/// Thrown by a handler for an event that can never be applied; the event goes to the
/// dead-letter topic with this message as its reason.
class PermanentError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// Thrown by a handler when a dependency failed in a way that a later retry can fix (a
/// provider's temporary error); the record is retried with backoff, never skipped.
class TransientError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

}  // namespace bazaar::events
