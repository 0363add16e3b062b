// SPDX-License-Identifier: GPL-2.0

//! `/dev/shadowpid`: one universe per open file, driven by ioctls.

use crate::{glue, uapi};
use kernel::{
    fs::File,
    miscdevice::{
        MiscDevice,
        MiscDeviceRegistration, //
    },
    prelude::*,
    uaccess::{
        UserPtr,
        UserSlice, //
    },
};

/// The private state of one open file of `/dev/shadowpid`.
pub(crate) struct UniverseFile;

#[vtable]
impl MiscDevice for UniverseFile {
    type Ptr = Pin<KBox<Self>>;

    fn open(file: &File, _misc: &MiscDeviceRegistration<Self>) -> Result<Self::Ptr> {
        // The node is 0600 root:root, but a file descriptor can be passed on:
        // decide on the opener's credentials, as file_ns_capable() does.
        if !glue::file_has_sys_admin(file) {
            return Err(EPERM);
        }
        Ok(KBox::pin(UniverseFile, GFP_KERNEL)?)
    }

    fn ioctl(_me: Pin<&UniverseFile>, _file: &File, cmd: u32, arg: usize) -> Result<isize> {
        let user = UserSlice::new(UserPtr::from_addr(arg), kernel::ioctl::_IOC_SIZE(cmd));
        match cmd {
            uapi::SHADOWPID_IOC_VERSION => {
                let version = uapi::shadowpid_version {
                    abi_version: uapi::SHADOWPID_ABI_VERSION,
                    reserved: 0,
                };
                user.writer().write(&version)?;
                Ok(0)
            }
            _ => Err(ENOTTY),
        }
    }
}
