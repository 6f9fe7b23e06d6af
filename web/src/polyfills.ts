// Loaded before anything else: @peculiar/x509's dependency injection needs Reflect metadata.
import 'reflect-metadata';
