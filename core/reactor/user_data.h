// What a completion is for: an op kind and the key of the object it belongs to, packed in
// the 64-bit user_data of the SQE. Keys carry a generation, so a completion that arrives
// after its connection is gone (a stray CQE) is recognised and ignored.
#pragma once

#include <cstdint>

namespace rm {

enum class Op : uint8_t {
  kAccept = 1,   // key: listener index
  kRecv,         // key: connection key
  kSend,         // key: connection key
  kCancel,       // result ignored
  kTimer,        // key: timer generation
  kTimerRemove,  // result ignored
  kWake,         // eventfd read
  kSignal,       // signalfd read
  kConnect,      // key: pending connect key
  kLinkTimeout,  // the timeout linked to a connect; result ignored
  kWatch,        // key: fd watch key (a poll)
};

// Connection keys (and the keys of the other per-shard tables): low 24 bits slot index,
// next 32 bits generation.
constexpr uint64_t kSlotBits = 24;
constexpr uint64_t kKeyMask = (uint64_t{1} << 56) - 1;

constexpr uint64_t make_user_data(Op op, uint64_t key) {
  return (uint64_t{static_cast<uint8_t>(op)} << 56) | (key & kKeyMask);
}
constexpr Op user_data_op(uint64_t user_data) { return static_cast<Op>(user_data >> 56); }
constexpr uint64_t user_data_key(uint64_t user_data) { return user_data & kKeyMask; }

constexpr uint64_t make_conn_key(uint32_t slot, uint32_t generation) {
  return (uint64_t{generation} << kSlotBits) | slot;
}
constexpr uint32_t conn_key_slot(uint64_t key) {
  return static_cast<uint32_t>(key & ((uint64_t{1} << kSlotBits) - 1));
}
constexpr uint32_t conn_key_generation(uint64_t key) {
  return static_cast<uint32_t>(key >> kSlotBits);
}

}  // namespace rm
