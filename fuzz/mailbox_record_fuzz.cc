// Fuzzes the mailbox store's record decoders (bytes read back from disk, possibly corrupt):
// the first input byte picks the record; whatever decodes must re-encode to the input.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/base/assert.h"
#include "store/mailbox/mailbox_records.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) {
    return 0;
  }
  const std::string_view input(reinterpret_cast<const char*>(data) + 1, size - 1);
  if (data[0] & 1) {
    const rm::Result<rm::MailboxInfo> info = rm::decode_mailbox_info(input);
    if (info.ok()) {
      RM_ASSERT_MSG(rm::encode_mailbox_info(*info) == input, "mailbox info re-encodes differently");
    }
    return 0;
  }
  const rm::Result<rm::MessageEntry> entry = rm::decode_message_entry(input, 1);
  if (entry.ok()) {
    RM_ASSERT_MSG(rm::encode_message_entry(*entry) == input, "entry re-encodes differently");
  } else {
    RM_ASSERT(entry.status().message().substr(0, 22) == "corrupt mailbox entry:");
  }
  return 0;
}
