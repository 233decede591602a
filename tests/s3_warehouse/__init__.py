"""Delta tables on S3 (s3a://) in a local session, against moto's S3 server."""
