// See certificate.h.
#include "tls/certificate.h"

// <wolfssl/options.h> comes before every other wolfSSL header (sorted order keeps it so): it
// fixes the configuration, and so the struct layouts, of the installed library.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <wolfssl/options.h>
#include <wolfssl/ssl.h>
#include <wolfssl/wolfcrypt/asn_public.h>
#include <wolfssl/wolfcrypt/ecc.h>
#include <wolfssl/wolfcrypt/error-crypt.h>
#include <wolfssl/wolfcrypt/random.h>
#include <wolfssl/wolfcrypt/rsa.h>

#include <cerrno>
#include <cstring>
#include <memory>
#include <string_view>
#include <vector>

#include "tls/wolfssl_support.h"

namespace rm {
namespace {

constexpr int kValidDays = 3650;
constexpr int kSerialBytes = 16;
constexpr word32 kDerMax = 8192;
constexpr word32 kPemMax = 12288;

Status crypto_error(std::string_view what, int code) {
  std::string msg("tls: ");
  msg += what;
  msg += ": ";
  msg += wc_GetErrorString(code);
  msg += " (";
  msg += std::to_string(code);
  msg += ")";
  return Status::Internal(std::move(msg));
}

bool file_exists(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0;
}

bool valid_hostname(std::string_view host) {
  if (host.empty() || host.size() > 253) {
    return false;
  }
  size_t label = 0;
  for (char c : host) {
    if (c == '.') {
      if (label == 0) {
        return false;  // empty label (leading dot or "..")
      }
      label = 0;
      continue;
    }
    bool ok =
        (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-';
    if (!ok || ++label > 63) {
      return false;
    }
  }
  return label > 0;
}

// Appends a DER length.
void der_length(std::vector<byte>& out, size_t len) {
  if (len < 0x80) {
    out.push_back(static_cast<byte>(len));
  } else {
    out.push_back(0x81);  // hostnames are at most 253 octets: one length byte suffices
    out.push_back(static_cast<byte>(len));
  }
}

// GeneralNames ::= SEQUENCE { dNSName [2] IA5String }, the extnValue of subjectAltName.
std::vector<byte> san_dns(std::string_view host) {
  std::vector<byte> name;
  name.push_back(0x82);
  der_length(name, host.size());
  name.insert(name.end(), host.begin(), host.end());
  std::vector<byte> seq;
  seq.push_back(0x30);
  der_length(seq, name.size());
  seq.insert(seq.end(), name.begin(), name.end());
  return seq;
}

struct Rng {
  WC_RNG rng;
  bool ready = false;
  Rng() { ready = wc_InitRng(&rng) == 0; }
  ~Rng() {
    if (ready) {
      wc_FreeRng(&rng);
    }
  }
  Rng(const Rng&) = delete;
  Rng& operator=(const Rng&) = delete;
};

struct CertDeleter {
  void operator()(Cert* c) const { wc_CertFree(c); }
};

struct Pem {
  std::string cert;
  std::string key;
};

Result<std::string> der_to_pem(const byte* der, word32 der_len, int type) {
  std::string pem(kPemMax, '\0');
  int n = wc_DerToPem(der, der_len, reinterpret_cast<byte*>(pem.data()), kPemMax, type);
  if (n <= 0) {
    return crypto_error("PEM encoding", n);
  }
  pem.resize(static_cast<size_t>(n));
  return pem;
}

// Fills the parts of the certificate that do not depend on the key type.
Status fill_cert(Cert* cert, const std::string& hostname, WC_RNG* rng) {
  int rc = wc_InitCert(cert);
  if (rc != 0) {
    return crypto_error("wc_InitCert", rc);
  }
  // CN is limited to 64 octets (RFC 5280 ub-common-name); a longer name keeps its first
  // label there and the full name in subjectAltName, which is what clients check.
  std::string cn = hostname;
  if (cn.size() >= CTC_NAME_SIZE) {
    cn = hostname.substr(0, hostname.find('.'));
  }
  std::strncpy(cert->subject.commonName, cn.c_str(), CTC_NAME_SIZE - 1);
  std::strncpy(cert->subject.org, "ringmail self-signed", CTC_NAME_SIZE - 1);
  cert->daysValid = kValidDays;  // wolfSSL starts validity one day before now
  cert->selfSigned = 1;
  cert->isCA = 0;

  rc = wc_RNG_GenerateBlock(rng, cert->serial, kSerialBytes);
  if (rc != 0) {
    return crypto_error("serial number", rc);
  }
  cert->serial[0] = static_cast<byte>((cert->serial[0] & 0x7f) | 0x40);  // positive, 16 octets
  cert->serialSz = kSerialBytes;

  std::vector<byte> san = san_dns(hostname);
  static_assert(CTC_MAX_ALT_SIZE > 300, "room for one DNS name");
  std::memcpy(cert->altNames, san.data(), san.size());
  cert->altNamesSz = static_cast<int>(san.size());

  rc = wc_SetExtKeyUsage(cert, "serverAuth,clientAuth");
  if (rc != 0) {
    return crypto_error("extKeyUsage", rc);
  }
  return Status::Ok();
}

// wc_MakeCert + wc_SignCert; returns the DER certificate.
Result<std::vector<byte>> make_and_sign(Cert* cert, RsaKey* rsa, ecc_key* ecc, WC_RNG* rng) {
  std::vector<byte> der(kDerMax);
  int rc = wc_MakeCert(cert, der.data(), kDerMax, rsa, ecc, rng);
  if (rc < 0) {
    return crypto_error("wc_MakeCert", rc);
  }
  rc = wc_SignCert(cert->bodySz, cert->sigType, der.data(), kDerMax, rsa, ecc, rng);
  if (rc < 0) {
    return crypto_error("wc_SignCert", rc);
  }
  der.resize(static_cast<size_t>(rc));
  return der;
}

Result<Pem> make_ecc(const std::string& hostname, WC_RNG* rng) {
  ecc_key key;
  int rc = wc_ecc_init(&key);
  if (rc != 0) {
    return crypto_error("wc_ecc_init", rc);
  }
  struct KeyGuard {
    ecc_key* k;
    ~KeyGuard() { wc_ecc_free(k); }
  } guard{&key};
  rc = wc_ecc_make_key_ex(rng, 32, &key, ECC_SECP256R1);
  if (rc != 0) {
    return crypto_error("P-256 key generation", rc);
  }
  std::unique_ptr<Cert, CertDeleter> cert(wc_CertNew(nullptr));
  if (!cert) {
    return Status::Internal("tls: out of memory");
  }
  RM_RETURN_IF_ERROR(fill_cert(cert.get(), hostname, rng));
  cert->sigType = CTC_SHA256wECDSA;
  if ((rc = wc_SetSubjectKeyIdFromPublicKey(cert.get(), nullptr, &key)) != 0 ||
      (rc = wc_SetKeyUsage(cert.get(), "digitalSignature")) != 0) {
    return crypto_error("certificate extensions", rc);
  }
  Result<std::vector<byte>> der = make_and_sign(cert.get(), nullptr, &key, rng);
  if (!der.ok()) {
    return der.status();
  }
  std::vector<byte> key_der(kDerMax);
  rc = wc_EccKeyToDer(&key, key_der.data(), kDerMax);
  if (rc <= 0) {
    return crypto_error("wc_EccKeyToDer", rc);
  }
  Result<std::string> key_pem =
      der_to_pem(key_der.data(), static_cast<word32>(rc), ECC_PRIVATEKEY_TYPE);
  explicit_bzero(key_der.data(), key_der.size());
  if (!key_pem.ok()) {
    return key_pem.status();
  }
  Result<std::string> cert_pem =
      der_to_pem(der->data(), static_cast<word32>(der->size()), CERT_TYPE);
  if (!cert_pem.ok()) {
    explicit_bzero(key_pem->data(), key_pem->size());
    return cert_pem.status();
  }
  return Pem{std::move(cert_pem).value(), std::move(key_pem).value()};
}

Result<Pem> make_rsa(const std::string& hostname, WC_RNG* rng) {
  RsaKey key;
  int rc = wc_InitRsaKey(&key, nullptr);
  if (rc != 0) {
    return crypto_error("wc_InitRsaKey", rc);
  }
  struct KeyGuard {
    RsaKey* k;
    ~KeyGuard() { wc_FreeRsaKey(k); }
  } guard{&key};
  rc = wc_MakeRsaKey(&key, 2048, WC_RSA_EXPONENT, rng);
  if (rc != 0) {
    return crypto_error("RSA 2048 key generation", rc);
  }
  std::unique_ptr<Cert, CertDeleter> cert(wc_CertNew(nullptr));
  if (!cert) {
    return Status::Internal("tls: out of memory");
  }
  RM_RETURN_IF_ERROR(fill_cert(cert.get(), hostname, rng));
  cert->sigType = CTC_SHA256wRSA;
  if ((rc = wc_SetSubjectKeyIdFromPublicKey(cert.get(), &key, nullptr)) != 0 ||
      (rc = wc_SetKeyUsage(cert.get(), "digitalSignature,keyEncipherment")) != 0) {
    return crypto_error("certificate extensions", rc);
  }
  Result<std::vector<byte>> der = make_and_sign(cert.get(), &key, nullptr, rng);
  if (!der.ok()) {
    return der.status();
  }
  std::vector<byte> key_der(kDerMax);
  rc = wc_RsaKeyToDer(&key, key_der.data(), kDerMax);
  if (rc <= 0) {
    return crypto_error("wc_RsaKeyToDer", rc);
  }
  Result<std::string> key_pem =
      der_to_pem(key_der.data(), static_cast<word32>(rc), PRIVATEKEY_TYPE);
  explicit_bzero(key_der.data(), key_der.size());
  if (!key_pem.ok()) {
    return key_pem.status();
  }
  Result<std::string> cert_pem =
      der_to_pem(der->data(), static_cast<word32>(der->size()), CERT_TYPE);
  if (!cert_pem.ok()) {
    explicit_bzero(key_pem->data(), key_pem->size());
    return cert_pem.status();
  }
  return Pem{std::move(cert_pem).value(), std::move(key_pem).value()};
}

std::string parent_dir(const std::string& path) {
  size_t slash = path.rfind('/');
  if (slash == std::string::npos) {
    return ".";
  }
  return slash == 0 ? "/" : path.substr(0, slash);
}

// Writes `content` to a temporary file next to `path` with `mode`, fsyncs it; returns the
// temporary file's name (to be renamed over `path`).
Result<std::string> write_temp(const std::string& path, std::string_view content, mode_t mode) {
  std::string tmp = path + ".tmp.XXXXXX";
  int fd = ::mkostemp(tmp.data(), O_CLOEXEC);  // created 0600
  if (fd < 0) {
    return Status::FromErrno("tls: creating a temporary file for " + path, errno);
  }
  Status st;
  if (::fchmod(fd, mode) != 0) {
    st = Status::FromErrno("tls: fchmod " + tmp, errno);
  }
  size_t done = 0;
  while (st.ok() && done < content.size()) {
    ssize_t n = ::write(fd, content.data() + done, content.size() - done);
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      st = Status::FromErrno("tls: writing " + tmp, errno);
    } else {
      done += static_cast<size_t>(n);
    }
  }
  if (st.ok() && ::fsync(fd) != 0) {
    st = Status::FromErrno("tls: fsync " + tmp, errno);
  }
  if (::close(fd) != 0 && st.ok()) {
    st = Status::FromErrno("tls: closing " + tmp, errno);
  }
  if (!st.ok()) {
    ::unlink(tmp.c_str());
    return st;
  }
  return tmp;
}

void fsync_dir(const std::string& dir) {
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd >= 0) {
    (void)::fsync(fd);  // best effort: the files themselves are complete either way
    ::close(fd);
  }
}

}  // namespace

Status ensure_self_signed(const std::string& cert_path, const std::string& key_path,
                          const std::string& hostname, SelfSignedKeyType key_type) {
  bool have_cert = file_exists(cert_path);
  bool have_key = file_exists(key_path);
  if (have_cert && have_key) {
    return Status::Ok();
  }
  if (have_cert || have_key) {
    return Status::AlreadyExists("tls: " + (have_cert ? cert_path : key_path) + " exists but " +
                                 (have_cert ? key_path : cert_path) +
                                 " does not; not overwriting it with a new self-signed pair "
                                 "(remove it, or supply both files)");
  }
  if (cert_path == key_path) {
    return Status::InvalidArgument("tls: certificate and key paths are the same: " + cert_path);
  }
  if (!valid_hostname(hostname)) {
    return Status::InvalidArgument("tls: not a valid hostname for a certificate: '" + hostname +
                                   "'");
  }
  RM_RETURN_IF_ERROR(tls_internal::ensure_wolfssl_initialized());

  Rng rng;
  if (!rng.ready) {
    return Status::Internal("tls: cannot initialise the random number generator");
  }
  Result<Pem> pem = key_type == SelfSignedKeyType::kRsa2048 ? make_rsa(hostname, &rng.rng)
                                                            : make_ecc(hostname, &rng.rng);
  if (!pem.ok() && key_type == SelfSignedKeyType::kEcdsaP256) {
    Result<Pem> rsa = make_rsa(hostname, &rng.rng);
    if (!rsa.ok()) {
      return Status::Internal(std::string(pem.status().message()) +
                              "; RSA fallback: " + std::string(rsa.status().message()));
    }
    pem = std::move(rsa);
  }
  if (!pem.ok()) {
    return pem.status();
  }

  Result<std::string> key_tmp = write_temp(key_path, pem->key, 0600);
  explicit_bzero(pem->key.data(), pem->key.size());
  if (!key_tmp.ok()) {
    return key_tmp.status();
  }
  Result<std::string> cert_tmp = write_temp(cert_path, pem->cert, 0644);
  if (!cert_tmp.ok()) {
    ::unlink(key_tmp->c_str());
    return cert_tmp.status();
  }
  // Key first: a crash between the two renames leaves a key without a certificate, which
  // the next call reports instead of silently pairing it with something else.
  if (::rename(key_tmp->c_str(), key_path.c_str()) != 0) {
    int err = errno;
    ::unlink(key_tmp->c_str());
    ::unlink(cert_tmp->c_str());
    return Status::FromErrno("tls: renaming to " + key_path, err);
  }
  if (::rename(cert_tmp->c_str(), cert_path.c_str()) != 0) {
    int err = errno;
    ::unlink(cert_tmp->c_str());
    ::unlink(key_path.c_str());
    return Status::FromErrno("tls: renaming to " + cert_path, err);
  }
  fsync_dir(parent_dir(key_path));
  if (parent_dir(cert_path) != parent_dir(key_path)) {
    fsync_dir(parent_dir(cert_path));
  }
  return Status::Ok();
}

}  // namespace rm
