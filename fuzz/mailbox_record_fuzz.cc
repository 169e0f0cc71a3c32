// Fuzzes the mailbox store's record decoders (bytes read back from disk, possibly corrupt):
// the first input byte picks the record; whatever decodes must survive a round trip (encode,
// decode) unchanged. Bytes need not re-encode identically: records written before a field
// was added end without it, and are re-encoded with it.
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
      const rm::Result<rm::MailboxInfo> again =
          rm::decode_mailbox_info(rm::encode_mailbox_info(*info));
      RM_ASSERT_MSG(again.ok() && *again == *info, "mailbox info does not survive a round trip");
    }
    return 0;
  }
  const rm::Result<rm::MessageEntry> entry = rm::decode_message_entry(input, 1);
  if (entry.ok()) {
    const rm::Result<rm::MessageEntry> again =
        rm::decode_message_entry(rm::encode_message_entry(*entry), 1);
    RM_ASSERT_MSG(again.ok() && *again == *entry, "entry does not survive a round trip");
  } else {
    RM_ASSERT(entry.status().message().substr(0, 22) == "corrupt mailbox entry:");
  }
  return 0;
}
