//! One blocking connection: a request out, its response back, in lockstep.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream, ToSocketAddrs};

use bytes::Bytes;
use pinlog_protocol::frame::FRAME_PREFIX_BYTES;
use pinlog_protocol::generated::{
    ApiKey, RequestBody, RequestHeader, ResponseBody, ResponseHeader,
};
use pinlog_protocol::header::encode_request;
use pinlog_protocol::wire::{Message, Reader};

use super::{ClientError, CLIENT_ID, IO_TIMEOUT, RESPONSE_BYTES_MAX};

/// A TCP connection to one broker. Not shared: one request is in flight at a time.
pub struct Connection {
    address: String,
    stream: TcpStream,
    next_correlation_id: i32,
}

impl Connection {
    /// Connects to `address` (`host:port`), trying each resolved address in turn.
    pub fn open(address: &str) -> Result<Connection, ClientError> {
        let resolved: Vec<SocketAddr> = address
            .to_socket_addrs()
            .map_err(|source| ClientError::Resolve {
                address: address.to_string(),
                source,
            })?
            .collect();
        let mut last_error = std::io::Error::new(std::io::ErrorKind::NotFound, "no address");
        for socket_address in resolved {
            match TcpStream::connect_timeout(&socket_address, IO_TIMEOUT) {
                Ok(stream) => return Connection::over(address, stream),
                Err(error) => last_error = error,
            }
        }
        Err(ClientError::Connect {
            address: address.to_string(),
            source: last_error,
        })
    }

    fn over(address: &str, stream: TcpStream) -> Result<Connection, ClientError> {
        let configure = || -> std::io::Result<()> {
            stream.set_read_timeout(Some(IO_TIMEOUT))?;
            stream.set_write_timeout(Some(IO_TIMEOUT))?;
            stream.set_nodelay(true)
        };
        configure().map_err(|source| ClientError::Connect {
            address: address.to_string(),
            source,
        })?;
        Ok(Connection {
            address: address.to_string(),
            stream,
            next_correlation_id: 1,
        })
    }

    pub fn address(&self) -> &str {
        &self.address
    }

    /// Sends `body` at `version` and waits for its response.
    pub fn send(&mut self, version: i16, body: RequestBody) -> Result<ResponseBody, ClientError> {
        let api = body.api_key();
        let correlation_id = self.write_request(version, &body)?;
        let frame = self.read_frame(api)?;
        self.decode_response(api, version, correlation_id, frame)
    }

    /// Sends `body` at `version` without reading a response: for Produce with acks=0, which
    /// the broker never answers.
    pub fn send_without_response(
        &mut self,
        version: i16,
        body: RequestBody,
    ) -> Result<(), ClientError> {
        self.write_request(version, &body).map(|_| ())
    }

    /// Writes one request frame; returns its correlation id.
    fn write_request(&mut self, version: i16, body: &RequestBody) -> Result<i32, ClientError> {
        let api = body.api_key();
        let correlation_id = self.next_correlation_id;
        self.next_correlation_id = self.next_correlation_id.wrapping_add(1);
        let header = RequestHeader {
            request_api_key: api as i16,
            request_api_version: version,
            correlation_id,
            client_id: Some(CLIENT_ID.to_string()),
            ..Default::default()
        };
        let chunks = encode_request(&header, body).map_err(|error| ClientError::Encode {
            api,
            reason: error.to_string(),
        })?;
        for chunk in &chunks {
            self.stream
                .write_all(chunk)
                .map_err(|source| self.io_error(api, source))?;
        }
        Ok(correlation_id)
    }

    /// Reads one size-prefixed frame, refusing sizes above [`RESPONSE_BYTES_MAX`] before
    /// allocating.
    fn read_frame(&mut self, api: ApiKey) -> Result<Bytes, ClientError> {
        let mut prefix = [0u8; FRAME_PREFIX_BYTES];
        self.stream
            .read_exact(&mut prefix)
            .map_err(|source| self.io_error(api, source))?;
        let size = i32::from_be_bytes(prefix);
        if size < 0 || size as usize > RESPONSE_BYTES_MAX {
            return Err(ClientError::FrameTooLarge {
                address: self.address.clone(),
                api,
                size: i64::from(size),
            });
        }
        let mut frame = vec![0u8; size as usize];
        self.stream
            .read_exact(&mut frame)
            .map_err(|source| self.io_error(api, source))?;
        Ok(Bytes::from(frame))
    }

    fn decode_response(
        &self,
        api: ApiKey,
        version: i16,
        correlation_id: i32,
        frame: Bytes,
    ) -> Result<ResponseBody, ClientError> {
        let decode_error = |reason: String| ClientError::Decode {
            address: self.address.clone(),
            api,
            reason,
        };
        let mut reader = Reader::new(frame, ResponseHeader::NAME, version);
        let header = ResponseHeader::decode(&mut reader, api.response_header_version(version))
            .map_err(|error| decode_error(error.to_string()))?;
        if header.correlation_id != correlation_id {
            return Err(ClientError::CorrelationMismatch {
                address: self.address.clone(),
                api,
                expected: correlation_id,
                got: header.correlation_id,
            });
        }
        ResponseBody::decode(api, &mut reader, version)
            .map_err(|error| decode_error(error.to_string()))
    }

    fn io_error(&self, api: ApiKey, source: std::io::Error) -> ClientError {
        ClientError::Io {
            address: self.address.clone(),
            api,
            source,
        }
    }
}

#[cfg(test)]
mod tests {
    use std::net::TcpListener;
    use std::thread;

    use pinlog_protocol::generated::ListGroupsRequest;

    use super::*;

    /// A one-shot server: reads one request frame, then writes `reply` and closes.
    fn server(reply: Vec<u8>) -> String {
        let listener = TcpListener::bind("127.0.0.1:0").expect("binding");
        let address = listener.local_addr().expect("address").to_string();
        thread::spawn(move || {
            let (mut stream, _) = listener.accept().expect("accepting");
            let mut prefix = [0u8; 4];
            stream.read_exact(&mut prefix).expect("request size");
            let mut request = vec![0u8; i32::from_be_bytes(prefix) as usize];
            stream.read_exact(&mut request).expect("request");
            let _ = stream.write_all(&reply);
        });
        address
    }

    fn list_groups(address: &str) -> Result<ResponseBody, ClientError> {
        let mut connection = Connection::open(address).expect("connecting");
        connection.send(4, RequestBody::ListGroups(ListGroupsRequest::default()))
    }

    #[test]
    fn a_huge_size_prefix_is_refused_before_allocating() {
        let address = server(i32::MAX.to_be_bytes().to_vec());
        let error = list_groups(&address).expect_err("accepted");
        assert!(
            matches!(error, ClientError::FrameTooLarge { .. }),
            "{error}"
        );
    }

    #[test]
    fn a_response_for_another_request_is_an_error() {
        // ListGroups v4 uses response header v1: correlation id, then no tagged fields.
        let mut reply = 5i32.to_be_bytes().to_vec();
        reply.extend(99i32.to_be_bytes());
        reply.push(0);
        let address = server(reply);
        let error = list_groups(&address).expect_err("accepted");
        assert!(
            matches!(error, ClientError::CorrelationMismatch { got: 99, .. }),
            "{error}"
        );
    }

    #[test]
    fn a_closed_connection_mid_frame_is_an_io_error() {
        let mut reply = 100i32.to_be_bytes().to_vec();
        reply.extend([0u8; 10]);
        let address = server(reply);
        let error = list_groups(&address).expect_err("accepted");
        assert!(matches!(error, ClientError::Io { .. }), "{error}");
    }
}
